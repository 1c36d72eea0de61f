"""Ingest: poll the provider on a schedule, store each batch, publish what changed.

One ``Ingestor`` per process (see ``propsage.runtime``). A poll fetches games, upserts them,
fetches offers of the games in its window (live or pregame, at most ``max_games``), prices
them, stores the batch in one transaction, runs the analytics on what changed, and publishes
live events on the bus. A failing provider or game never loses stored data: the game is
marked stale and the next poll retries.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pandas as pd
from apscheduler.schedulers.background import BackgroundScheduler

from propsage import metrics
from propsage.bus import EventBus
from propsage.changes import ChangeSet
from propsage.domain import EventKind, Game, GameStatus, LiveEvent, empty_offers
from propsage.providers.base import LiveDataProvider, ProviderError
from propsage.store import Store

log = logging.getLogger(__name__)

Pricer = Callable[[pd.DataFrame], pd.DataFrame]
# Called after each stored batch with (board of touched games, changeset, now); returns events.
Analyzer = Callable[[pd.DataFrame, ChangeSet, pd.Timestamp], list[LiveEvent]]

PREGAME_HORIZON = pd.Timedelta(hours=36)


@dataclass(slots=True)
class PollReport:
    """What one poll did (also what the metrics and the status bar show)."""

    window: str
    started: pd.Timestamp
    seconds: float = 0.0
    games: int = 0
    polled: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    quotes: int = 0
    snapshots: int = 0
    movements: int = 0
    rejected: int = 0
    error: str = ""


def select_games(games: list[Game], window: str, now: pd.Timestamp, max_games: int) -> list[Game]:
    """The games a poll of ``window`` ('live' | 'pregame' | 'all') fetches, live first, then soonest."""
    live = [g for g in games if g.status == GameStatus.LIVE]
    soon = [g for g in games if g.status == GameStatus.SCHEDULED
            and pd.Timestamp(g.start_time) - now <= PREGAME_HORIZON]
    soon.sort(key=lambda g: g.start_time)
    live.sort(key=lambda g: g.start_time)
    chosen = {"live": live, "pregame": soon, "all": live + soon}[window]
    return chosen[:max_games]


def covered_triples(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """(game_id, market, book) a poll fully reported: per fetched game, every market it returned
    times every book it returned. A book still quoting the game but no longer a market that
    others quote has pulled that market, so its old quotes there are withdrawn."""
    parts = []
    for f in frames:
        if len(f):
            idx = pd.MultiIndex.from_product(
                [f["game_id"].unique(), f["market"].unique(), f["book"].unique()],
                names=["game_id", "market", "book"])
            parts.append(idx.to_frame(index=False))
    if not parts:
        return pd.DataFrame(columns=["game_id", "market", "book"])
    return pd.concat(parts, ignore_index=True)


class Ingestor:
    """Polls a provider into a store and publishes changes on a bus."""

    def __init__(self, provider: LiveDataProvider, store: Store, bus: EventBus, *,
                 max_games: int = 10, live_interval: float = 5.0, pregame_interval: float = 60.0,
                 pricer: Pricer | None = None, analyzers: list[Analyzer] | None = None,
                 workers: int = 4):
        self.provider = provider
        self.store = store
        self.bus = bus
        self.max_games = max_games
        self.live_interval = live_interval
        self.pregame_interval = pregame_interval
        self.pricer = pricer
        self.analyzers = list(analyzers or [])
        self.workers = workers
        self.scheduler: BackgroundScheduler | None = None
        self.last_report: PollReport | None = None
        self.polls = 0
        self._lock = threading.Lock()

    # -- one poll ----------------------------------------------------------------------------
    def poll(self, window: str = "all") -> PollReport:
        """Run one poll of ``window``; never raises for provider faults."""
        with self._lock:
            report = self._poll(window)
        self.last_report = report
        self.polls += 1
        metrics.observe_poll(report, self.provider.health, self.provider.name)
        return report

    def _poll(self, window: str) -> PollReport:
        t0 = time.perf_counter()
        now = self.provider.now()
        report = PollReport(window=window, started=now)
        try:
            games = self.provider.get_games()
        except ProviderError as exc:
            report.error = str(exc)
            self._provider_down(str(exc), now)
            report.seconds = time.perf_counter() - t0
            return report
        for g in self.store.upsert_games(games, now):
            self.bus.publish(LiveEvent(EventKind.GAME_STATE, g.id, g.league, g.to_row(),
                                       now.to_pydatetime()))
        chosen = select_games(games, window, now, self.max_games)
        report.games = len(chosen)
        frames, ok, failed = self._fetch(chosen)
        report.polled, report.failed = ok, failed
        if failed:
            self.store.mark_games(failed, stale=True)
            for gid, why in failed.items():
                log.warning("ingest: game %s kept stale: %s", gid, why)
        batch = pd.concat(frames, ignore_index=True) if frames else empty_offers()
        report.quotes = len(batch)
        if len(batch) and self.pricer is not None:
            try:
                batch = self.pricer(batch)
            except Exception:  # a pricing bug must not cost us the quotes themselves
                log.exception("ingest: pricing failed; storing the batch unpriced")
        self._store_provider_rejects(now)
        changes = self.store.apply_offers(batch, covered=covered_triples(frames), now=now)
        self.store.mark_games(ok, stale=False, now=now)
        report.snapshots = changes.n_snapshots
        report.movements = len(changes.movements)
        report.rejected = len(changes.rejected)
        self.provider.health.rejected_quotes += len(changes.rejected)
        if ok and not failed:
            self._provider_up()
        self._publish(games, changes, now)
        for analyze in self.analyzers:
            try:
                for event in analyze(batch, changes, now):
                    self.bus.publish(event)
            except Exception:
                log.exception("ingest: analyzer %r failed", analyze)
        report.seconds = time.perf_counter() - t0
        log.info("ingest %s: %d games, %d quotes, %d snapshots, %d moves, %d rejected, %.3fs",
                 window, report.games, report.quotes, report.snapshots, report.movements,
                 report.rejected, report.seconds)
        return report

    def _fetch(self, games: list[Game]) -> tuple[list[pd.DataFrame], list[str], dict[str, str]]:
        frames: list[pd.DataFrame] = []
        ok: list[str] = []
        failed: dict[str, str] = {}
        if not games:
            return frames, ok, failed

        def one(g: Game) -> tuple[str, pd.DataFrame | None, str]:
            try:
                return g.id, self.provider.get_offers(g.id), ""
            except ProviderError as exc:
                return g.id, None, str(exc)

        if self.workers > 1 and len(games) > 1 and getattr(self.provider, "concurrent", True):
            with ThreadPoolExecutor(self.workers, thread_name_prefix="fetch") as pool:
                results = list(pool.map(one, games))
        else:
            results = [one(g) for g in games]
        for gid, frame, err in results:
            if frame is None:
                failed[gid] = err
            else:
                ok.append(gid)
                if len(frame):
                    frames.append(frame)
        return frames, ok, failed

    def _store_provider_rejects(self, now: pd.Timestamp) -> None:
        drain = getattr(self.provider, "drain_rejects", None)
        if drain is not None:
            rejects = drain()
            if len(rejects):
                self.store.write_rejects(rejects, now)

    def _provider_down(self, why: str, now: pd.Timestamp) -> None:
        health = self.provider.health
        health.up, health.last_error = False, why
        log.error("ingest: provider %s down: %s", self.provider.name, why)
        known = self.store.query("SELECT id, league FROM games_live WHERE status <> 'final'")
        self.store.mark_games(known["id"].tolist(), stale=True)
        self.bus.publish(LiveEvent(EventKind.PROVIDER_STATUS, "", "",
                                   {"up": False, "error": why}, now.to_pydatetime()))

    def _provider_up(self) -> None:
        health = self.provider.health
        was_down = not health.up
        health.up, health.last_ok = True, time.time()
        if was_down:
            health.last_error = ""
            self.bus.publish(LiveEvent(EventKind.PROVIDER_STATUS, "", "", {"up": True}))

    def _publish(self, games: list[Game], changes: ChangeSet, now: pd.Timestamp) -> None:
        if changes.empty:
            return
        league = {g.id: g.league for g in games}
        ts = now.to_pydatetime()
        committed = time.time()  # wall time of the commit: the dashboard measures latency from it
        for gid, rows in changes.upserted.groupby("game_id", sort=False):
            rows = rows.reset_index(drop=True)
            rows.attrs["committed_at"] = committed
            self.bus.publish(LiveEvent(EventKind.ODDS_UPDATE, str(gid), league.get(gid, ""),
                                       rows, ts))
        moves = changes.movements
        if len(moves):
            for gid, rows in moves[moves["kind"] == "line"].groupby("game_id", sort=False):
                self.bus.publish(LiveEvent(EventKind.PROP_LINE_MOVE, str(gid),
                                           league.get(gid, ""), rows.reset_index(drop=True), ts))
        susp = changes.changed[changes.changed["is_suspended"].astype(bool)]
        for gid, rows in susp.groupby("game_id", sort=False):
            self.bus.publish(LiveEvent(EventKind.MARKET_SUSPENSION, str(gid), league.get(gid, ""),
                                       rows.reset_index(drop=True), ts))

    # -- scheduling --------------------------------------------------------------------------
    def start(self) -> BackgroundScheduler:
        """Start the in-process scheduler (once): live and pregame jobs, first run now."""
        if self.scheduler is not None:
            return self.scheduler
        sched = BackgroundScheduler(timezone="UTC", job_defaults={
            "max_instances": 1, "coalesce": True, "misfire_grace_time": 30})
        first = pd.Timestamp.now(tz="UTC").to_pydatetime()
        sched.add_job(self.poll, "interval", args=["pregame"], id="ingest-pregame",
                      seconds=self.pregame_interval, next_run_time=first)
        sched.add_job(self.poll, "interval", args=["live"], id="ingest-live",
                      seconds=self.live_interval,
                      next_run_time=first)
        sched.start()
        self.scheduler = sched
        log.info("ingest: scheduler started (live %.1fs, pregame %.1fs)",
                 self.live_interval, self.pregame_interval)
        return sched

    def stop(self) -> None:
        """Stop the scheduler, waiting for a running poll to finish."""
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
            self.scheduler = None
