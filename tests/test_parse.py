"""The Odds API JSON -> offer frame: real captures and the real-world quirks of prop responses."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import pandas as pd
import pytest

from propsage.domain import GameStatus
from propsage.providers.parse import parse_games, parse_odds, snapshot_time, unwrap
from propsage.validate import split_valid

FIXTURES = Path(__file__).parent / "fixtures"
T = pd.Timestamp("2025-11-23T14:20:52Z")
CIN_NE = "1a8f3d70399a5cad83c95196795ed77b"


def _nfl_first() -> dict:
    with gzip.open(FIXTURES / "nfl_odds_2025wk12_excerpt.jsonl.gz", "rt") as fh:
        return json.loads(fh.readline())


def _props(i: int = 0) -> dict:
    lines = (FIXTURES / "nfl_props_synthetic.jsonl").read_text().splitlines()
    return json.loads(lines[i])["data"]


def _one(frame: pd.DataFrame, **where: object) -> pd.Series:
    rows = frame
    for col, value in where.items():
        rows = rows[rows[col] == value]
    assert len(rows) == 1, f"{len(rows)} rows for {where}"
    return rows.iloc[0]


# -- game lines (real NFL capture) -------------------------------------------------------------
def test_featured_list_gives_one_offer_per_event_book_market():
    capture = _nfl_first()
    parsed = parse_odds(capture["data"], T)
    n_markets = sum(len(b["markets"]) for e in capture["data"] for b in e["bookmakers"])
    assert len(parsed.offers) == n_markets == 99
    assert parsed.rejects.empty
    assert {g.id for g in parsed.games} == {e["id"] for e in capture["data"]}


def test_h2h_puts_home_price_in_over_and_line_zero():
    # Hand-read from the capture: DraftKings CIN (home) +310, NE (away) -395.
    o = _one(parse_odds(_nfl_first()["data"], T).offers, game_id=CIN_NE, book="draftkings",
             market="h2h")
    assert (o["line"], o["over_price"], o["under_price"]) == (0.0, 310.0, -395.0)
    assert o["player_id"] == ""


def test_spread_line_is_the_home_point():
    # DraftKings: CIN +7.5 at -112, NE -7.5 at -108.
    o = _one(parse_odds(_nfl_first()["data"], T).offers, game_id=CIN_NE, book="draftkings",
             market="spreads")
    assert (o["line"], o["over_price"], o["under_price"]) == (7.5, -112.0, -108.0)


def test_totals_map_over_and_under():
    # BetUS quotes a whole-number total: 50, Over -115, Under -105.
    o = _one(parse_odds(_nfl_first()["data"], T).offers, game_id=CIN_NE, book="betus",
             market="totals")
    assert (o["line"], o["over_price"], o["under_price"]) == (50.0, -115.0, -105.0)


def test_spread_listed_away_first_still_pairs_on_the_home_point():
    event = {"id": "e1", "sport_key": "americanfootball_nfl", "commence_time": "2025-11-23T18:00:00Z",
             "home_team": "Home", "away_team": "Away", "bookmakers": [{
                 "key": "fanduel", "last_update": "2025-11-23T14:00:00Z", "markets": [{
                     "key": "spreads", "outcomes": [
                         {"name": "Away", "price": -105, "point": 3.5},
                         {"name": "Home", "price": -115, "point": -3.5}]}]}]}
    o = _one(parse_odds([event], T).offers, market="spreads")
    assert (o["line"], o["over_price"], o["under_price"]) == (-3.5, -115.0, -105.0)


def test_game_lines_before_kickoff_are_not_live_and_after_are():
    data = _nfl_first()["data"]
    assert not parse_odds(data, T).offers["is_live"].any()
    assert parse_odds(data, pd.Timestamp("2025-11-23T19:00:00Z")).offers["is_live"].all()


def test_every_real_quote_passes_store_validation():
    valid, rejected = split_valid(parse_odds(_nfl_first()["data"], T).offers)
    assert rejected.empty and len(valid) == 99


# -- player props (synthetic response in the real format) ---------------------------------------
def test_several_points_for_one_player_in_the_main_market_give_one_offer_per_line():
    offers = parse_odds(_props(), T).offers
    mahomes = offers[(offers["book"] == "betrivers") & (offers["market"] == "player_pass_yds")]
    assert mahomes["line"].tolist() == [249.5, 262.5, 274.5]
    assert mahomes["over_price"].tolist() == [-160.0, -113.0, 130.0]
    assert mahomes["under_price"].tolist() == [125.0, -113.0, -165.0]
    assert mahomes["offer_id"].nunique() == 3


def test_over_only_quote_stays_one_sided():
    o = _one(parse_odds(_props(), T).offers, book="draftkings", market="player_reception_yds",
             player_name="JuJu Smith-Schuster")
    assert (o["line"], o["over_price"]) == (20.5, -125.0)
    assert math.isnan(o["under_price"])


def test_anytime_td_yes_without_point_has_nan_line_and_yes_price_as_over():
    o = _one(parse_odds(_props(), T).offers, book="draftkings", market="player_anytime_td",
             player_name="Jonathan Taylor")
    assert math.isnan(o["line"]) and o["over_price"] == -175.0 and math.isnan(o["under_price"])


def test_one_sided_props_are_kept_by_store_validation():
    valid, rejected = split_valid(parse_odds(_props(), T).offers)
    assert rejected.empty
    assert valid["under_price"].isna().sum() == 9   # 7 anytime-TD Yes + 2 Over-only


def test_missing_bookmaker_last_update_falls_back_to_the_market_one():
    o = _one(parse_odds(_props(), T).offers, book="fanduel", market="player_pass_yds")
    assert o["book_last_update"] == pd.Timestamp("2025-11-23T14:19:41Z")


def test_same_player_from_two_books_gets_one_player_id():
    offers = parse_odds(_props(), T).offers
    rec = offers[offers["market"] == "player_receptions"]
    ids = rec.loc[rec["player_name"].str.startswith("Michael Pittman"), "player_id"]
    assert set(rec.loc[rec["player_name"].str.startswith("Michael Pittman"), "player_name"]) == {
        "Michael Pittman Jr.", "Michael Pittman"}
    assert set(ids) == {"michael-pittman"}


def test_props_have_fetched_at_and_league_of_the_event():
    offers = parse_odds(_props(), T).offers
    assert (offers["fetched_at"] == T).all() and (offers["league"] == "nfl").all()


# -- wrappers, shapes, malformed items ----------------------------------------------------------
def test_historical_wrapper_is_unwrapped_and_its_timestamp_is_the_fetch_time():
    wrapped = {"timestamp": "2025-11-23T14:20:00Z", "previous_timestamp": "2025-11-23T14:15:00Z",
               "next_timestamp": "2025-11-23T14:25:00Z", "data": _nfl_first()["data"]}
    parsed = parse_odds(wrapped)
    assert len(parsed.offers) == 99
    assert (parsed.offers["fetched_at"] == pd.Timestamp("2025-11-23T14:20:00Z")).all()
    assert unwrap(wrapped)[1] == pd.Timestamp("2025-11-23T14:20:00Z")


def test_malformed_items_are_rejected_with_a_reason_and_the_rest_is_kept():
    good = _props()
    bad_books = [
        {"key": "bovada", "markets": [{"key": "player_pass_yds", "last_update": "2025-11-23T14:00:00Z",
                                       "outcomes": [
                                           {"name": "Over", "description": "X", "price": "-110",
                                            "point": 1.5},
                                           {"name": "Sideways", "description": "X", "price": -110,
                                            "point": 1.5},
                                           {"name": "Over", "description": "Y", "price": -110,
                                            "point": 2.5},
                                           {"name": "Over", "description": "Y", "price": -105,
                                            "point": 2.5}]}]},
        {"markets": []},
        {"key": "betmgm", "markets": "nope"},
        {"key": "fanatics", "markets": [{"key": "spreads", "outcomes": [
            {"name": "Kansas City Chiefs", "price": -110}]}]},
    ]
    payload = [{**good, "bookmakers": good["bookmakers"] + bad_books},
               {"sport_key": "americanfootball_nfl", "bookmakers": []}, "junk"]
    parsed = parse_odds(payload, T)
    reasons = parsed.rejects["reason"].tolist()
    assert "outcome 'Over' has no numeric price" in reasons
    assert any("'Sideways' is neither" in r for r in reasons)
    assert any(r.startswith("duplicate 'Over' outcome") for r in reasons)
    assert "bookmaker without a key" in reasons and "markets is not a list" in reasons
    assert any("has no point" in r for r in reasons)
    assert any("event without id" in r for r in reasons)
    assert "event is str, not an object" in reasons
    assert len(parsed.rejects) == 8
    # Everything well-formed still parses: the 31 offers of the good response + Y's first Over.
    assert len(parsed.offers) == len(parse_odds(good, T).offers) + 1


def test_a_payload_that_is_not_json_odds_is_one_reject_not_a_crash():
    parsed = parse_odds({"message": "oops"}, T)
    assert parsed.offers.empty and len(parsed.rejects) == 1
    parsed = parse_odds(42, T)
    assert parsed.rejects["reason"].tolist() == ["response is int, not an event list"]


def test_snapshot_time_of_a_bare_response_is_its_latest_last_update():
    assert snapshot_time(_props()) == pd.Timestamp("2025-11-23T14:19:41Z")


# -- games and scores ---------------------------------------------------------------------------
def test_scores_mark_completed_games_final_with_scores():
    scores = [
        {"id": "a", "sport_key": "americanfootball_nfl", "commence_time": "2025-11-23T18:00:00Z",
         "completed": True, "home_team": "H", "away_team": "A",
         "scores": [{"name": "H", "score": "23"}, {"name": "A", "score": "20"}],
         "last_update": "2025-11-23T21:10:00Z"},
        {"id": "b", "sport_key": "americanfootball_nfl", "commence_time": "2025-11-23T18:00:00Z",
         "completed": False, "home_team": "H2", "away_team": "A2",
         "scores": [{"name": "H2", "score": "7"}, {"name": "A2", "score": "3"}],
         "last_update": None},
        {"id": "c", "sport_key": "americanfootball_nfl", "commence_time": "2025-11-24T01:20:00Z",
         "completed": False, "home_team": "H3", "away_team": "A3", "scores": None,
         "last_update": None},
    ]
    games, bad = parse_games(scores, pd.Timestamp("2025-11-23T19:00:00Z"))
    by = {g.id: g for g in games}
    assert bad == 0
    assert (by["a"].status, by["a"].home_score, by["a"].away_score) == (GameStatus.FINAL, 23, 20)
    assert (by["b"].status, by["b"].home_score) == (GameStatus.LIVE, 7)
    assert by["c"].status == GameStatus.SCHEDULED and by["c"].home_score is None


@pytest.mark.realdata
def test_real_nba_scores_list_upcoming_games_as_scheduled(shared):
    data = json.loads((shared / "odds-api-nba-props" / "scores_nba_upcoming_2024-02-22.json")
                      .read_text())
    games, bad = parse_games(data, pd.Timestamp("2024-02-22T20:00:00Z"))
    assert bad == 0 and len(games) == 21
    assert {g.status for g in games} == {GameStatus.SCHEDULED}
    assert {g.league for g in games} == {"nba"}


@pytest.mark.realdata
@pytest.mark.parametrize("name, n_outcomes, n_offers", [
    ("event_odds_nba_player_points_BKN_at_TOR_2024-02-23.json", 572, 272),
    ("event_odds_nba_player_points_ORL_at_CLE_2024-02-23.json", 482, 241),
])
def test_real_nba_prop_responses_parse_to_one_offer_per_player_line(shared, name, n_outcomes,
                                                                   n_offers):
    data = json.loads((shared / "odds-api-nba-props" / name).read_text())
    outcomes = [o for b in data["bookmakers"] for m in b["markets"] for o in m["outcomes"]]
    assert len(outcomes) == n_outcomes
    offers = parse_odds(data, pd.Timestamp("2024-02-23T00:08:00Z")).offers
    assert len(offers) == n_offers
    assert len(offers) == len({(b["key"], o["description"], o["point"]) for b in data["bookmakers"]
                               for m in b["markets"] for o in m["outcomes"]})
    # Bookmaker-level last_update is absent in these files; every quote still has a book time.
    assert all("last_update" not in b for b in data["bookmakers"])
    assert offers["book_last_update"].notna().all()
    assert split_valid(offers)[1].empty
