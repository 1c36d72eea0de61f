"""In-process event bus: thread-safe publish/subscribe on topics.

Topics are strings: ``game:<id>``, ``league:<code>`` and ``all``. ``publish`` delivers an event
to the subscribers of its game, its league and ``all``, each once. Subscribers run on the
publisher's thread and must hand work to their own loop quickly (the Panel sessions do).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from propsage.domain import LiveEvent

log = logging.getLogger(__name__)

Callback = Callable[[LiveEvent], None]


def topics_for(event: LiveEvent) -> tuple[str, ...]:
    """The topics an event is published on."""
    return (f"game:{event.game_id}", f"league:{event.league}", "all")


class EventBus:
    """Thread-safe pub/sub. A failing subscriber is logged and never breaks the publisher."""

    def __init__(self) -> None:
        self._subs: dict[str, dict[int, Callback]] = {}
        self._lock = threading.Lock()
        self._next = 0
        self.published = 0

    def subscribe(self, topics: str | Iterable[str], callback: Callback) -> Callable[[], None]:
        """Subscribe ``callback`` to one or more topics; returns the unsubscribe function."""
        names = [topics] if isinstance(topics, str) else list(topics)
        with self._lock:
            token = self._next
            self._next += 1
            for t in names:
                self._subs.setdefault(t, {})[token] = callback

        def unsubscribe() -> None:
            with self._lock:
                for t in names:
                    subs = self._subs.get(t)
                    if subs is not None:
                        subs.pop(token, None)
                        if not subs:
                            del self._subs[t]

        return unsubscribe

    def publish(self, event: LiveEvent) -> int:
        """Deliver ``event``; returns how many subscribers received it."""
        with self._lock:
            targets: dict[int, Callback] = {}
            for t in topics_for(event):
                targets.update(self._subs.get(t, {}))
            self.published += 1
        for cb in targets.values():
            try:
                cb(event)
            except Exception:  # a broken session must not stop ingest
                log.exception("bus: subscriber failed on %s", event.kind)
        return len(targets)

    def subscriber_count(self) -> int:
        """Distinct live subscriptions (for leak checks and metrics)."""
        with self._lock:
            return len({tok for subs in self._subs.values() for tok in subs})
