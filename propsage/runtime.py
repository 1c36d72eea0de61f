"""The one place for process-wide state: settings, store, bus, provider, ingest.

``get_runtime()`` builds and starts everything once per process (the first Panel session, or
``panel serve --setup``), never once per browser session.
"""

from __future__ import annotations

import atexit
import logging
import threading
from dataclasses import dataclass

from propsage.bus import EventBus
from propsage.config import Settings, load_settings
from propsage.ingest import Ingestor
from propsage.providers import make_provider
from propsage.providers.base import LiveDataProvider
from propsage.store import Store

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Runtime:
    """Everything one PropSage process shares."""

    settings: Settings
    store: Store
    bus: EventBus
    provider: LiveDataProvider
    ingestor: Ingestor

    def stop(self) -> None:
        """Stop polling and close the store."""
        self.ingestor.stop()
        close = getattr(self.provider, "close", None)
        if close:
            close()
        self.store.close()


_runtime: Runtime | None = None
_lock = threading.Lock()


def build_runtime(settings: Settings | None = None) -> Runtime:
    """Wire a runtime from settings without starting the scheduler."""
    settings = settings or load_settings()
    store = Store(settings.db_path)
    bus = EventBus()
    provider = make_provider(settings)
    history = getattr(provider, "history", None)
    if history is not None:
        # The simulated players' past games, so the model has priors for them (idempotent).
        store.write_results(history())
    pricer = default_pricer(store)
    ingestor = Ingestor(
        provider, store, bus, max_games=settings.max_games,
        live_interval=settings.live_interval, pregame_interval=settings.pregame_interval,
        pricer=pricer, analyzers=default_analyzers(store, pricer),
    )
    return Runtime(settings, store, bus, provider, ingestor)


def default_pricer(store: Store):  # noqa: ANN201 - a propsage.pricing.BoardPricer
    """The pricing stage ingest runs on every poll."""
    from propsage.pricing import make_pricer

    return make_pricer(store)


def default_analyzers(store: Store, pricer=None) -> list:  # noqa: ANN001
    """The analytics stages ingest runs after each stored batch."""
    from propsage.analytics.persist import make_analyzer

    return [make_analyzer(store, pricer)]


def get_runtime(settings: Settings | None = None, *, start: bool = True) -> Runtime:
    """The process's runtime, built (and its scheduler started) on first use."""
    global _runtime
    with _lock:
        if _runtime is None:
            _runtime = build_runtime(settings)
            if start and _runtime.settings.realtime:
                scheduler = _runtime.ingestor.start()
                from propsage.research import schedule_export

                # Sealed Parquet for researchers: readable while this process holds the DB.
                schedule_export(scheduler, _runtime.store, _runtime.settings.parquet_dir,
                                minutes=60)
            if _runtime.settings.metrics_port:
                from propsage import metrics

                metrics.serve(_runtime.settings.metrics_port)
            atexit.register(_shutdown)
        return _runtime


def _shutdown() -> None:
    global _runtime
    with _lock:
        if _runtime is not None:
            try:
                _runtime.stop()
            except Exception:  # interpreter is going away; nothing left to save
                log.exception("runtime: shutdown failed")
            _runtime = None
