"""Per-session feed: subscribe to the bus, queue events thread-safely, drain on the session loop.

Bus callbacks run on the ingest thread; Bokeh documents must only be touched on their own
loop. Events are queued here and drained by a periodic callback on the session (every
``interval_ms``), so a burst of events costs at most one repaint per interval.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

import panel as pn

from propsage.bus import EventBus
from propsage.domain import LiveEvent


class SessionFeed:
    """Bridges the event bus to one browser session."""

    def __init__(self, bus: EventBus, topics: Iterable[str], on_events: Callable[[list[LiveEvent]], None],
                 interval_ms: int = 250):
        self._queue: list[LiveEvent] = []
        self._lock = threading.Lock()
        self._on_events = on_events
        self._bus = bus
        self._unsub = bus.subscribe(list(topics), self._enqueue)
        self._cb = pn.state.add_periodic_callback(self.drain, period=interval_ms)
        pn.state.on_session_destroyed(self._destroyed)

    def _enqueue(self, event: LiveEvent) -> None:
        with self._lock:
            self._queue.append(event)

    def resubscribe(self, topics: Iterable[str]) -> None:
        """Follow other topics (e.g. another game)."""
        self._unsub()
        with self._lock:
            self._queue.clear()
        self._unsub = self._bus.subscribe(list(topics), self._enqueue)

    def drain(self) -> None:
        """Hand queued events to the session (runs on the session's loop)."""
        with self._lock:
            events, self._queue = self._queue, []
        if events:
            self._on_events(events)

    def close(self) -> None:
        """Unsubscribe and stop the periodic callback."""
        self._unsub()
        if self._cb is not None:
            self._cb.stop()
            self._cb = None

    def _destroyed(self, session_context) -> None:  # noqa: ANN001 - bokeh's type
        self.close()
