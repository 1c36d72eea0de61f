"""The provider protocol, and a base class with a TTL cache and a token-bucket rate limiter."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import pandas as pd

from propsage.domain import Game, LiveEvent


class ProviderError(RuntimeError):
    """A provider call failed; ``retryable`` says whether the next poll may succeed."""

    def __init__(self, message: str, *, retryable: bool = True, status: int | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.status = status


@dataclass(slots=True)
class ProviderHealth:
    """What the UI and metrics show about a provider: up/down, last error, quota, rejects."""

    up: bool = True
    last_error: str = ""
    last_ok: float | None = None
    requests_remaining: int | None = None
    requests_used: int | None = None
    requests_last: int | None = None
    rejected_quotes: int = 0
    stale_games: set[str] = field(default_factory=set)


@runtime_checkable
class LiveDataProvider(Protocol):
    """What ingest needs from a source of games and odds."""

    name: str
    health: ProviderHealth

    def get_games(self) -> list[Game]:
        """Games in the configured leagues (scheduled, live and recently final)."""
        ...

    def get_offers(self, game_id: str) -> pd.DataFrame:
        """The current offer frame (``propsage.domain.OFFER_COLUMNS``) of one game."""
        ...

    def get_snapshots(self, game_id: str) -> pd.DataFrame:
        """Quote history the provider itself holds for a game (may be empty)."""
        ...

    def subscribe(self, game_id: str, callback: Callable[[LiveEvent], None]) -> Callable[[], None]:
        """Call ``callback`` on provider-side events of a game; returns the unsubscribe function."""
        ...

    def now(self) -> pd.Timestamp:
        """The provider's clock (wall time, or capture time when replaying)."""
        ...


class TokenBucket:
    """Thread-safe token bucket: ``rate`` tokens a second, bursts up to ``capacity``."""

    def __init__(self, rate: float, capacity: float | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.rate = float(rate)
        self.capacity = float(capacity if capacity is not None else max(rate, 1.0))
        self._tokens = self.capacity
        self._clock = clock
        self._last = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
        self._last = now

    def try_acquire(self, tokens: float = 1.0) -> bool:
        """Take tokens if available now."""
        with self._lock:
            self._refill()
            if self._tokens >= tokens:
                self._tokens -= tokens
                return True
            return False

    def acquire(self, tokens: float = 1.0, timeout: float | None = None) -> bool:
        """Block until tokens are available (or ``timeout`` seconds pass)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                self._refill()
                if self._tokens >= tokens:
                    self._tokens -= tokens
                    return True
                wait = (tokens - self._tokens) / self.rate if self.rate > 0 else 0.05
            if deadline is not None and time.monotonic() + wait > deadline:
                return False
            time.sleep(min(wait, 0.25))


class TTLCache:
    """A small thread-safe TTL cache keyed by string."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._data: dict[str, tuple[float, Any]] = {}
        self._clock = clock
        self._lock = threading.Lock()

    def get_or_set(self, key: str, ttl: float, fetch: Callable[[], Any]) -> Any:
        """Return the cached value for ``key`` if younger than ``ttl`` seconds, else fetch it."""
        now = self._clock()
        with self._lock:
            hit = self._data.get(key)
            if hit is not None and now - hit[0] < ttl:
                return hit[1]
        value = fetch()
        with self._lock:
            self._data[key] = (self._clock(), value)
        return value

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._data.clear()


class BaseProvider:
    """Shared plumbing for providers: name, health, cache, rate limiter, subscriptions."""

    name = "base"

    def __init__(self, *, rate_per_second: float = 10.0, burst: float | None = None):
        self.health = ProviderHealth()
        self.cache = TTLCache()
        self.limiter = TokenBucket(rate_per_second, burst)
        self._subs: dict[str, list[Callable[[LiveEvent], None]]] = {}
        self._subs_lock = threading.Lock()
        self._rejects: list[pd.DataFrame] = []

    def get_snapshots(self, game_id: str) -> pd.DataFrame:
        """Providers without their own history return an empty frame."""
        from propsage.domain import empty_offers

        return empty_offers()

    def subscribe(self, game_id: str, callback: Callable[[LiveEvent], None]) -> Callable[[], None]:
        """Register a callback for provider-side events of one game."""
        with self._subs_lock:
            self._subs.setdefault(game_id, []).append(callback)

        def unsubscribe() -> None:
            with self._subs_lock:
                cbs = self._subs.get(game_id, [])
                if callback in cbs:
                    cbs.remove(callback)

        return unsubscribe

    def record_rejects(self, rejects: pd.DataFrame) -> None:
        """Keep malformed items (game_id, market, book, player_name, reason) for the store."""
        if len(rejects):
            self.health.rejected_quotes += len(rejects)
            with self._subs_lock:
                self._rejects.append(rejects)

    def drain_rejects(self) -> pd.DataFrame:
        """Hand over (and forget) the rejects recorded since the last call."""
        with self._subs_lock:
            parts, self._rejects = self._rejects, []
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
            columns=["game_id", "market", "book", "player_name", "reason"])

    def _emit(self, event: LiveEvent) -> None:
        with self._subs_lock:
            cbs = list(self._subs.get(event.game_id, []))
        for cb in cbs:
            cb(event)

    def now(self) -> pd.Timestamp:
        """Wall-clock UTC."""
        return pd.Timestamp.now(tz="UTC")

    def close(self) -> None:
        """Release resources (HTTP clients, files)."""
