"""Per-session feed: subscribe to the bus, queue events thread-safely, drain on the session loop.

Bus callbacks run on the ingest thread; Bokeh documents must only be touched on their own
loop. Events are queued here (stamped with their arrival time) and handed over by a periodic
callback on the session (every ``interval_ms``), so a burst of events costs at most one
repaint per interval, and every document change happens on the session's loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import panel as pn

from propsage.bus import EventBus
from propsage.domain import LiveEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Arrival:
    """An event as a session received it: ``at`` is the wall time (s) it was published."""

    event: LiveEvent
    at: float


MAX_PENDING = 5_000  # events; a live session drains every 250 ms, so this means it is gone


class SessionFeed:
    """Bridges the event bus to one browser session.

    ``on_tick(arrivals)`` runs every ``interval_ms`` on the session's loop, with the events
    queued since the last tick (possibly none: the tick also drives timers such as expiring
    highlights). With ``schedule=False`` nothing is scheduled: call ``drain()`` yourself (tests).
    """

    def __init__(self, bus: EventBus, topics: Iterable[str],
                 on_tick: Callable[[list[Arrival]], None], *, interval_ms: int = 250,
                 schedule: bool = True):
        self._queue: list[Arrival] = []
        self._lock = threading.Lock()
        self._on_tick = on_tick
        self._bus = bus
        self.topics = list(topics)
        self._unsub: Callable[[], None] | None = bus.subscribe(self.topics, self._enqueue)
        self._cb = None
        self.closed = False
        if schedule:
            self._cb = pn.state.add_periodic_callback(self.drain, period=interval_ms)
            if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
                pn.state.on_session_destroyed(self._destroyed)

    def _enqueue(self, event: LiveEvent) -> None:
        with self._lock:
            self._queue.append(Arrival(event, time.time()))
            stalled = len(self._queue) > MAX_PENDING
            if stalled:
                self._queue.clear()
        if stalled and self._unsub is not None:
            # Nobody drains this feed (its session is gone without telling us): stop holding
            # every poll's frames for it.
            log.warning("session: feed not drained for %d events; unsubscribing", MAX_PENDING)
            self._unsub()
            self._unsub = None

    def resubscribe(self, topics: Iterable[str]) -> None:
        """Follow other topics (e.g. another league or game); drops what is queued."""
        topics = list(topics)
        if self.closed or topics == self.topics:
            return
        if self._unsub is not None:
            self._unsub()
        with self._lock:
            self._queue.clear()
        self.topics = topics
        self._unsub = self._bus.subscribe(topics, self._enqueue)

    def pending(self) -> int:
        """Events waiting for the next tick."""
        with self._lock:
            return len(self._queue)

    def drain(self) -> None:
        """Hand queued events to the session (runs on the session's loop)."""
        with self._lock:
            arrivals, self._queue = self._queue, []
        try:
            self._on_tick(arrivals)
        except Exception:  # one bad batch must not kill the session's ticker
            log.exception("session: tick failed on %d events", len(arrivals))

    def close(self) -> None:
        """Unsubscribe and stop the periodic callback (idempotent)."""
        if self.closed:
            return
        self.closed = True
        if self._unsub is not None:
            self._unsub()
            self._unsub = None
        if self._cb is not None:
            try:
                self._cb.stop()
            except Exception:  # the document may already be gone
                log.debug("session: periodic callback already stopped", exc_info=True)
            self._cb = None
        with self._lock:
            self._queue.clear()

    def _destroyed(self, session_context) -> None:  # noqa: ANN001 - bokeh's type
        self.close()
