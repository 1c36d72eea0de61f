"""Prometheus metrics of ingest and the provider (served when ``PROPSAGE_METRICS_PORT`` is set)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

REGISTRY = CollectorRegistry()

POLL_SECONDS = Histogram("propsage_ingest_duration_seconds", "Wall time of one ingest poll",
                         ["provider", "window"], registry=REGISTRY,
                         buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
POLLS = Counter("propsage_polls_total", "Ingest polls", ["provider", "window", "outcome"],
                registry=REGISTRY)
QUOTES = Counter("propsage_quotes_total", "Quotes received", ["provider"], registry=REGISTRY)
SNAPSHOTS = Counter("propsage_snapshots_total", "Snapshot rows stored", ["provider"],
                    registry=REGISTRY)
REJECTED = Counter("propsage_rejected_quotes_total", "Quotes rejected by validation",
                   ["provider"], registry=REGISTRY)
STALE_GAMES = Gauge("propsage_stale_games", "Games whose last poll failed", ["provider"],
                    registry=REGISTRY)
PROVIDER_UP = Gauge("propsage_provider_up", "1 when the provider answered the last poll",
                    ["provider"], registry=REGISTRY)
QUOTA_REMAINING = Gauge("propsage_quota_remaining", "x-requests-remaining of The Odds API",
                        ["provider"], registry=REGISTRY)
QUOTA_USED = Gauge("propsage_quota_used", "x-requests-used of The Odds API", ["provider"],
                   registry=REGISTRY)


def observe_poll(report, health, provider: str) -> None:  # noqa: ANN001 - PollReport, ProviderHealth
    """Record one poll's report and the provider's health."""
    outcome = "error" if report.error else ("partial" if report.failed else "ok")
    POLLS.labels(provider, report.window, outcome).inc()
    POLL_SECONDS.labels(provider, report.window).observe(report.seconds)
    QUOTES.labels(provider).inc(report.quotes)
    SNAPSHOTS.labels(provider).inc(report.snapshots)
    REJECTED.labels(provider).inc(report.rejected)
    STALE_GAMES.labels(provider).set(len(report.failed))
    PROVIDER_UP.labels(provider).set(1 if health.up else 0)
    if health.requests_remaining is not None:
        QUOTA_REMAINING.labels(provider).set(health.requests_remaining)
    if health.requests_used is not None:
        QUOTA_USED.labels(provider).set(health.requests_used)


def serve(port: int, addr: str = "127.0.0.1") -> None:
    """Expose /metrics on ``addr:port`` from a daemon thread."""
    start_http_server(port, addr=addr, registry=REGISTRY)
