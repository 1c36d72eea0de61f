"""Every Odds API fault, over real HTTP on 127.0.0.1 against real captures, through ingest.

Each fault must leave: a clear logged error (without the API key), the store unchanged (or
correctly updated), no duplicate snapshot, the affected games marked stale, and recovery on
the next good response.
"""

from __future__ import annotations

import logging
import re
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from propsage.bus import EventBus
from propsage.fixture_server import EVENTS, LINES, PROPS, FixtureServer
from propsage.ingest import Ingestor
from propsage.providers.theoddsapi import TheOddsAPIProvider
from propsage.store import Store

FIXTURES = Path(__file__).parent / "fixtures"
CAPTURES = [FIXTURES / "nfl_odds_2025wk12_excerpt.jsonl.gz", FIXTURES / "nfl_props_synthetic.jsonl"]
BOOKS = ("draftkings", "fanduel", "betrivers", "williamhill_us")
KEY = "test-key"
KC = "8b39d8dc550ced94f9faa91878ebf6b6"      # the game with (synthetic) player props
ALL = ("1a8f3d70399a5cad83c95196795ed77b", KC, "0ff4e68cf39cc57ca7cf1276e4a44d2f")
KC_PROPS = rf"/events/{KC}/odds$"


@dataclass
class Rig:
    server: FixtureServer
    provider: TheOddsAPIProvider
    store: Store
    ingest: Ingestor
    sleeps: list[float] = field(default_factory=list)

    def poll(self):  # noqa: ANN201
        return self.ingest.poll("all")

    def use(self, provider: TheOddsAPIProvider) -> None:
        self.provider.close()
        self.provider = provider
        self.ingest = Ingestor(provider, self.store, EventBus(), max_games=10)

    def snapshots(self) -> int:
        return self.store.count("odds_snapshots")

    def board(self) -> pd.DataFrame:
        return self.store.query("SELECT id, line_numeric, over_price, under_price, is_active "
                                "FROM prop_offers ORDER BY id")

    def stale(self) -> dict[str, bool]:
        g = self.store.query("SELECT id, is_stale FROM games_live")
        return dict(zip(g["id"], g["is_stale"], strict=True))

    def requests_to(self, pattern: str) -> int:
        return sum(1 for p, _, _ in self.server.requests if re.search(pattern, p))


def make_provider(url: str, sleeps: list[float], api_key: str = KEY,
                  **kw: object) -> TheOddsAPIProvider:
    """A provider with tiny backoff (sleeps are recorded, then slept)."""
    def sleep(s: float) -> None:
        sleeps.append(s)
        time.sleep(s)

    opts: dict = dict(base_url=url, leagues=("nfl",), bookmakers=BOOKS, lines_ttl=0,
                      scores_ttl=3600, timeout=2.0, connect_timeout=2.0, max_retries=2,
                      backoff_base=0.001, backoff_max=0.004, rate_per_second=1000, sleep=sleep,
                      seed=3)
    opts.update(kw)
    return TheOddsAPIProvider(api_key, **opts)


@pytest.fixture
def rig(tmp_path):
    server = FixtureServer(CAPTURES, api_key=KEY, delay=1.5).start()
    sleeps: list[float] = []
    provider = make_provider(server.url, sleeps)
    store = Store(tmp_path / "faults.duckdb")
    r = Rig(server, provider, store, Ingestor(provider, store, EventBus(), max_games=10), sleeps)
    yield r
    r.provider.close()
    store.close()
    server.stop()


def assert_no_duplicate_snapshots(store: Store) -> None:
    dup = store.query("SELECT prop_offer_id, fetched_at, count(*) n FROM odds_snapshots "
                      "GROUP BY ALL HAVING n > 1")
    assert dup.empty, dup
    # Consecutive snapshots of one offer always differ (a snapshot is a change).
    same = store.query("""
        SELECT count(*) n FROM (
          SELECT line_numeric, over_price, under_price, is_active,
                 lag(over_price) OVER w po, lag(under_price) OVER w pu, lag(is_active) OVER w pa,
                 lag(fetched_at) OVER w pf
          FROM odds_snapshots WINDOW w AS (PARTITION BY prop_offer_id ORDER BY fetched_at))
        WHERE pf IS NOT NULL AND over_price IS NOT DISTINCT FROM po
          AND under_price IS NOT DISTINCT FROM pu AND is_active = pa""")
    assert same["n"].iloc[0] == 0


def survive(rig: Rig, caplog, kind: str, path: str, affected: tuple[str, ...], message: str,
            *, provider_down: bool = False) -> None:
    """Good poll, faulty poll, good poll on the same data, good poll on new data."""
    caplog.set_level(logging.DEBUG)
    first = rig.poll()
    assert not first.failed and first.snapshots > 0
    n0, board0 = rig.snapshots(), rig.board()

    rig.server.inject(kind, path, times=None)
    caplog.clear()
    bad = rig.poll()
    errors = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)
    assert message in errors
    assert KEY not in caplog.text
    if provider_down:
        assert bad.error and not rig.provider.health.up
    else:
        assert set(bad.failed) == set(affected)
    assert message in rig.provider.health.last_error
    assert rig.snapshots() == n0
    pd.testing.assert_frame_equal(rig.board(), board0)
    assert {g for g, s in rig.stale().items() if s} == set(affected)

    rig.server.clear_faults()
    again = rig.poll()
    assert not again.failed and not again.error
    assert rig.snapshots() == n0                          # same data: nothing new, no duplicate
    assert not any(rig.stale().values())
    assert rig.provider.health.up

    assert rig.server.advance()
    moved = rig.poll()
    assert moved.snapshots > 0 and rig.snapshots() == n0 + moved.snapshots
    assert_no_duplicate_snapshots(rig.store)


@pytest.mark.parametrize("kind, path, affected, message", [
    ("500", LINES, ALL, "server error 500"),
    ("timeout", LINES, ALL, "timed out (ReadTimeout)"),
    ("malformed", LINES, ALL, "malformed JSON"),
    ("truncated", LINES, ALL, "connection error (RemoteProtocolError"),
    ("disconnect", LINES, ALL, "connection error (RemoteProtocolError"),
    ("empty", LINES, ALL, "empty odds list"),
    ("429", LINES, ALL, "rate limited (429 EXCEEDED_FREQ_LIMIT)"),
    ("500", KC_PROPS, (KC,), "server error 500"),
    ("timeout", KC_PROPS, (KC,), "timed out (ReadTimeout)"),
    ("malformed", KC_PROPS, (KC,), "malformed JSON"),
    ("truncated", KC_PROPS, (KC,), "connection error (RemoteProtocolError"),
    ("429", KC_PROPS, (KC,), "rate limited (429"),
])
def test_fault_keeps_last_data_marks_games_stale_and_recovers(rig, caplog, kind, path, affected,
                                                              message):
    if kind == "timeout":     # the server answers after 1.5 s
        rig.use(make_provider(rig.server.url, rig.sleeps, timeout=0.5))
    survive(rig, caplog, kind, path, affected, message)


def test_events_and_lines_both_failing_takes_the_provider_down_and_it_comes_back(rig, caplog):
    survive(rig, caplog, "500", r"/sports/[^/]+/(events|odds)$", ALL, "server error 500",
            provider_down=True)


def test_retries_are_bounded(rig):
    rig.poll()
    before = rig.requests_to(LINES)
    rig.server.inject("500", LINES, times=None)
    rig.poll()
    assert rig.requests_to(LINES) - before == 3          # 1 try + max_retries=2


def test_429_then_success_backs_off_exponentially_with_jitter(rig, caplog):
    rig.server.inject("429", LINES, times=2)
    with caplog.at_level(logging.WARNING):
        report = rig.poll()
    assert not report.failed and report.snapshots > 0
    assert not any(rig.stale().values())
    # cap = backoff_base * 2**attempt (0.001, 0.002); each delay is uniform in [cap/2, cap].
    assert len(rig.sleeps) == 2
    assert 0.0005 <= rig.sleeps[0] <= 0.001 and 0.001 <= rig.sleeps[1] <= 0.002
    assert "retry 1/2" in caplog.text and "retry 2/2" in caplog.text


def test_backoff_honours_retry_after_up_to_the_cap(rig):
    assert rig.provider._backoff(0, retry_after=60.0) == rig.provider.backoff_max


def test_401_is_a_clear_key_or_credits_error_and_ingest_stays_up(rig, caplog):
    survive(rig, caplog, "401", "", ALL,
            "invalid or missing API key / out of credits", provider_down=True)


def test_a_wrong_key_is_reported_without_showing_it(rig, caplog):
    provider = make_provider(rig.server.url, [], api_key="wrong-secret-key")
    ingest = Ingestor(provider, rig.store, EventBus())
    with caplog.at_level(logging.DEBUG):
        report = ingest.poll("all")
    assert "401 INVALID_KEY" in report.error and "API key / out of credits" in report.error
    assert not provider.health.up
    assert "wrong-secret-key" not in caplog.text and "wrong-secret-key" not in report.error
    assert rig.snapshots() == 0
    provider.close()


def test_running_out_of_credits_mid_poll_marks_the_game_stale_and_recovers_on_top_up(rig, caplog):
    rig.poll()
    n0 = rig.snapshots()
    rig.server.remaining = 5              # /odds costs 3; KC's props (5 markets) then do not fit
    with caplog.at_level(logging.ERROR):
        report = rig.poll()
    assert set(report.failed) == {KC}
    assert "Usage quota has been reached" in caplog.text and "out of credits" in caplog.text
    assert not rig.provider.health.up and rig.provider.health.requests_remaining == 2
    assert {g for g, s in rig.stale().items() if s} == {KC} and rig.snapshots() == n0
    rig.server.remaining = 1000
    assert not rig.poll().failed
    assert rig.provider.health.up and not any(rig.stale().values())


def test_422_names_the_market_drops_it_and_stores_the_rest(rig, caplog):
    rig.poll()
    td_before = rig.store.query("SELECT * FROM prop_offers WHERE market = 'player_anytime_td'")
    n0 = rig.snapshots()
    rig.server.inject("422", PROPS, times=None, market="player_anytime_td")
    rig.server.advance(2)        # next props capture: DK Mahomes line and FD Taylor TD price move
    with caplog.at_level(logging.ERROR):
        report = rig.poll()
    assert "does not support market(s) player_anytime_td" in caplog.text
    assert KEY not in caplog.text
    assert not report.failed and not any(rig.stale().values())
    assert "player_anytime_td" in rig.provider.dropped["americanfootball_nfl"]
    # The other markets were updated (the Mahomes line moved) ...
    assert report.snapshots > 0 and rig.snapshots() == n0 + report.snapshots
    assert not rig.store.query("SELECT * FROM prop_offers WHERE market = 'player_pass_yds' "
                               "AND book = 'draftkings' AND line_numeric = 265.5").empty
    # ... the dropped market kept its last data, and is no longer asked for.
    td_after = rig.store.query("SELECT * FROM prop_offers WHERE market = 'player_anytime_td'")
    pd.testing.assert_frame_equal(td_before, td_after)
    last_prop = [q for p, q, _ in rig.server.requests if re.search(PROPS, p)][-1]
    assert "player_anytime_td" not in last_prop["markets"]
    rig.poll()
    assert all("player_anytime_td" not in q["markets"] for p, q, s in rig.server.requests[-4:]
               if re.search(PROPS, p))
    assert_no_duplicate_snapshots(rig.store)


def test_an_event_without_bookmakers_withdraws_nothing(rig):
    rig.poll()
    board = rig.board()
    rig.server.inject("empty", KC_PROPS, times=None)
    report = rig.poll()
    assert not report.failed and report.snapshots == 0
    pd.testing.assert_frame_equal(rig.board(), board)


def test_an_empty_event_list_still_polls_the_games_of_the_odds_list(rig):
    rig.server.inject("empty", EVENTS, times=None)
    report = rig.poll()
    assert set(report.polled) == set(ALL) and not report.failed


def test_connection_refused_takes_the_provider_down_until_the_server_is_back(rig, caplog):
    with socket.socket() as s:                            # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/v4"
    rig.provider.base_url = dead
    with caplog.at_level(logging.ERROR):
        report = rig.poll()
    assert "connection error (ConnectError" in report.error
    assert not rig.provider.health.up and rig.snapshots() == 0
    rig.provider.base_url = rig.server.url
    assert rig.poll().snapshots > 0 and rig.provider.health.up
