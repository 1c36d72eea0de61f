"""Provider plumbing: the token bucket and the TTL cache."""

from __future__ import annotations

from propsage.providers.base import TokenBucket, TTLCache


class FakeClock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_token_bucket_allows_a_burst_then_refills_at_its_rate():
    clock = FakeClock()
    bucket = TokenBucket(rate=2.0, capacity=3, clock=clock)
    assert [bucket.try_acquire() for _ in range(4)] == [True, True, True, False]
    clock.t = 0.5  # one token back at 2 per second
    assert bucket.try_acquire() and not bucket.try_acquire()


def test_token_bucket_never_holds_more_than_its_capacity():
    clock = FakeClock()
    bucket = TokenBucket(rate=10.0, capacity=2, clock=clock)
    clock.t = 100.0
    assert [bucket.try_acquire() for _ in range(3)] == [True, True, False]


def test_ttl_cache_serves_a_fresh_value_and_refetches_a_stale_one():
    clock = FakeClock()
    cache, calls = TTLCache(clock=clock), []

    def fetch():
        calls.append(clock.t)
        return len(calls)

    assert cache.get_or_set("k", 10, fetch) == 1
    clock.t = 9.9
    assert cache.get_or_set("k", 10, fetch) == 1
    clock.t = 10.0
    assert cache.get_or_set("k", 10, fetch) == 2
    assert calls == [0.0, 10.0]
