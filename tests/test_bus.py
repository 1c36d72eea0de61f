"""The event bus: topics, once-only delivery, isolation of failing subscribers, unsubscribe."""

from __future__ import annotations

import threading

from propsage.bus import EventBus
from propsage.domain import EventKind, LiveEvent


def event(game="g1", league="nfl"):
    return LiveEvent(EventKind.ODDS_UPDATE, game, league, {})


def test_game_topic_receives_only_its_game():
    bus, got = EventBus(), []
    bus.subscribe("game:g1", got.append)
    bus.publish(event("g1"))
    bus.publish(event("g2"))
    assert [e.game_id for e in got] == ["g1"]


def test_league_and_all_topics_receive_every_game_of_theirs():
    bus, nba, everything = EventBus(), [], []
    bus.subscribe("league:nba", nba.append)
    bus.subscribe("all", everything.append)
    bus.publish(event("g1", "nfl"))
    bus.publish(event("g2", "nba"))
    assert [e.game_id for e in nba] == ["g2"]
    assert len(everything) == 2


def test_a_subscriber_on_several_matching_topics_gets_the_event_once():
    bus, got = EventBus(), []
    bus.subscribe(["game:g1", "league:nfl", "all"], got.append)
    assert bus.publish(event()) == 1
    assert len(got) == 1


def test_unsubscribe_frees_the_subscription():
    bus = EventBus()
    unsub = bus.subscribe(["game:g1", "all"], lambda e: None)
    assert bus.subscriber_count() == 1
    unsub()
    assert bus.subscriber_count() == 0
    assert bus.publish(event()) == 0


def test_a_failing_subscriber_does_not_stop_delivery_to_others():
    bus, got = EventBus(), []

    def broken(e):
        raise RuntimeError("session gone")

    bus.subscribe("all", broken)
    bus.subscribe("all", got.append)
    bus.publish(event())
    assert len(got) == 1


def test_publish_from_many_threads_delivers_every_event():
    bus, got, lock = EventBus(), [], threading.Lock()

    def record(e):
        with lock:
            got.append(e)

    bus.subscribe("all", record)
    threads = [threading.Thread(target=lambda: [bus.publish(event()) for _ in range(200)])
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 800
