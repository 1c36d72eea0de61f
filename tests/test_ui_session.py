"""The per-session feed: bus events queued from any thread, handed over in one batch per tick."""

from __future__ import annotations

import threading
import time

from propsage.domain import EventKind, LiveEvent
from propsage.ui.session import SessionFeed


def event(game: str = "g1", league: str = "nfl") -> LiveEvent:
    return LiveEvent(EventKind.ODDS_UPDATE, game, league, None)


def test_events_published_between_ticks_arrive_together_stamped_with_their_publish_time(bus):
    batches: list = []
    feed = SessionFeed(bus, ["all"], batches.append, schedule=False)
    t0 = time.time()
    workers = [threading.Thread(target=bus.publish, args=(event(),)) for _ in range(20)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()

    feed.drain()

    assert [len(b) for b in batches] == [20]
    assert all(t0 <= a.at <= time.time() for a in batches[0])
    feed.drain()
    assert [len(b) for b in batches] == [20, 0]


def test_a_feed_hears_only_its_topics_and_can_switch_them(bus):
    batches: list = []
    feed = SessionFeed(bus, ["game:g1"], batches.append, schedule=False)
    bus.publish(event("g1"))
    bus.publish(event("g2"))
    feed.resubscribe(["league:nba"])
    bus.publish(event("g1", "nfl"))
    bus.publish(event("g3", "nba"))
    feed.drain()
    assert [a.event.game_id for a in batches[0]] == ["g3"]


def test_closing_a_feed_unsubscribes_it_and_drops_what_was_queued(bus):
    baseline = bus.subscriber_count()
    batches: list = []
    feed = SessionFeed(bus, ["all"], batches.append, schedule=False)
    bus.publish(event())
    assert bus.subscriber_count() == baseline + 1
    feed.close()
    feed.close()
    assert bus.subscriber_count() == baseline
    assert bus.publish(event()) == 0
    assert feed.pending() == 0


def test_a_failing_tick_is_logged_and_the_feed_keeps_working(bus, caplog):
    calls: list = []

    def tick(arrivals):  # noqa: ANN001
        calls.append(len(arrivals))
        if len(calls) == 1:
            raise RuntimeError("boom")

    feed = SessionFeed(bus, ["all"], tick, schedule=False)
    bus.publish(event())
    feed.drain()
    bus.publish(event())
    feed.drain()
    assert calls == [1, 1] and "tick failed" in caplog.text


def test_a_feed_nobody_drains_unsubscribes_itself_instead_of_growing():
    from propsage.bus import EventBus
    from propsage.domain import EventKind, LiveEvent
    from propsage.ui.session import MAX_PENDING, SessionFeed

    bus = EventBus()
    feed = SessionFeed(bus, ["all"], lambda arrivals: None, schedule=False)
    for _ in range(MAX_PENDING + 1):
        bus.publish(LiveEvent(EventKind.ODDS_UPDATE, "g", "nfl", None))
    assert bus.subscriber_count() == 0
    assert feed.pending() == 0
