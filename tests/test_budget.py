"""Odds API credits: quota headers, the credits-per-hour planner, and the prop-polling floor."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pandas as pd
import pytest

from propsage.budget import Budget, credits_per_hour, next_reset, plan, read_quota, region_units
from propsage.fixture_server import LINES, PROPS, FixtureServer
from propsage.providers.theoddsapi import TheOddsAPIProvider

FIXTURES = Path(__file__).parent / "fixtures"
CAPTURES = [FIXTURES / "nfl_odds_2025wk12_excerpt.jsonl.gz", FIXTURES / "nfl_props_synthetic.jsonl"]
NOW = pd.Timestamp("2026-11-25T12:00:00Z")


def test_quota_headers_are_read_as_integers():
    headers = {"x-requests-remaining": "19834", "x-requests-used": "166", "x-requests-last": "3"}
    assert read_quota(headers) == (19834, 166, 3)
    assert read_quota({}) == (None, None, None)


def test_ten_bookmakers_bill_as_one_region_and_bookmakers_win_over_regions():
    assert region_units(("us",), ()) == 1
    assert region_units(("us", "eu"), ()) == 2
    assert region_units(("us", "eu"), ("draftkings",) * 10) == 1
    assert region_units(("us",), ("draftkings",) * 11) == 2


def test_credits_per_hour_is_games_times_markets_times_regions_times_polls():
    props, lines, scores = credits_per_hour(
        live_games=2, pregame_games=3, prop_markets=5, line_markets=3, units=2,
        live_interval=30, pregame_interval=300, lines_interval=60, sports=1, scores_interval=60)
    # props: 2 units x 5 markets x (2 games x 120 polls + 3 games x 12 polls) = 2,760
    assert props == 2 * 5 * (2 * 120 + 3 * 12) == 2760
    assert lines == 2 * 3 * 60 == 360        # one /odds call for every game, 60 an hour
    assert scores == 2 * 60 == 120           # /scores?daysFrom=1 costs 2


def test_no_scores_are_planned_while_no_game_is_live():
    assert credits_per_hour(live_games=0, pregame_games=4, prop_markets=5, line_markets=3,
                            units=1, live_interval=5, pregame_interval=60, lines_interval=60,
                            scores_interval=60)[2] == 0


def test_quota_resets_on_the_first_of_the_next_month():
    assert next_reset(pd.Timestamp("2026-11-25T12:00Z")) == pd.Timestamp("2026-12-01T00:00Z")
    assert next_reset(pd.Timestamp("2026-12-31T23:00Z")) == pd.Timestamp("2027-01-01T00:00Z")
    assert next_reset(pd.Timestamp("2026-12-01T00:00Z")) == pd.Timestamp("2027-01-01T00:00Z")


def test_plan_warns_when_the_floor_is_reached_before_the_reset():
    polling = dict(live_games=1, pregame_games=0, prop_markets=5, line_markets=3, units=1,
                   live_interval=60, pregame_interval=300, lines_interval=60, scores_interval=60)
    # 5 x 60 + 3 x 60 + 2 x 60 = 600 credits/hour; 5,600 - 500 floor lasts 8.5 hours.
    p = plan(remaining=5600, now=NOW, quota_floor=500, **polling)
    assert p.credits_per_hour == 600
    assert p.runs_out_at == NOW + pd.Timedelta(hours=8.5)
    assert "before the quota resets on 2026-12-01" in p.warning
    # 600/hour over the 132 hours to the reset is 79,200: a 100,000 quota is enough.
    assert plan(remaining=100_000, now=NOW, quota_floor=500, **polling).warning == ""


def test_budget_tracks_headers_and_stops_props_at_the_floor():
    b = Budget(quota_floor=100)
    assert b.props_allowed                       # unknown quota: allowed
    b.update({"x-requests-remaining": "101", "x-requests-used": "9899", "x-requests-last": "5"})
    assert b.props_allowed and (b.remaining, b.used, b.last, b.spent) == (101, 9899, 5, 5)
    b.update({"x-requests-remaining": "100", "x-requests-used": "9900", "x-requests-last": "1"})
    assert not b.props_allowed and b.spent == 6


def test_budget_warning_is_logged_at_most_once_per_period(caplog):
    t = [0.0]
    b = Budget(quota_floor=0, warn_every=3600, clock=lambda: t[0])
    b.update({"x-requests-remaining": "10"})
    polling = dict(live_games=1, pregame_games=0, prop_markets=5, line_markets=3, units=1,
                   live_interval=5, pregame_interval=60, lines_interval=30, scores_interval=60)
    with caplog.at_level(logging.WARNING, logger="propsage.budget"):
        b.check(NOW, **polling)
        b.check(NOW, **polling)
        t[0] = 3601.0
        b.check(NOW, **polling)
    assert len([r for r in caplog.records if "Odds API budget" in r.message]) == 2


@pytest.fixture
def server():
    with FixtureServer(CAPTURES, quota=60) as srv:
        yield srv


def test_below_the_floor_props_stop_and_game_lines_continue(server, caplog):
    provider = TheOddsAPIProvider(
        "test-key", base_url=server.url, leagues=("nfl",), quota_floor=48, lines_ttl=0,
        bookmakers=("draftkings", "fanduel", "betrivers", "williamhill_us"), rate_per_second=1000)
    kc = "8b39d8dc550ced94f9faa91878ebf6b6"
    with caplog.at_level(logging.WARNING):
        provider.get_games()                # /events free, /odds 3, /scores 2 -> 55 left
        assert provider.health.requests_remaining == 55
        first = provider.get_offers(kc)     # 5 prop markets returned -> 50 left
        assert first["market"].str.startswith("player_").any()
        provider.get_games()                # /odds 3 (scores cached) -> 47: below the floor
        second = provider.get_offers(kc)
    assert provider.health.requests_remaining == 47
    assert not second["market"].str.startswith("player_").any()
    assert set(second["market"]) == {"h2h", "spreads", "totals"}
    prop_calls = [p for p, _, _ in server.requests if re.search(PROPS, p)]
    line_calls = [p for p, _, _ in server.requests if re.search(LINES, p)]
    assert len(prop_calls) == 1 and len(line_calls) == 2
    assert "prop polling paused" in caplog.text
    assert "prop polling paused" in provider.health.last_error
