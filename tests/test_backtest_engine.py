"""The point-in-time engine: boards as known at each decision time, and nothing later."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from propsage.backtest.engine import read_boards, run_backtest
from propsage.backtest.strategy import Strategy
from propsage.domain import Game, as_offer_frame
from propsage.store import Store

START = pd.Timestamp("2025-01-10T00:00:00Z")
BOOKS = ("draftkings", "fanduel", "betmgm", "williamhill_us")
DECISION_COLUMNS = ["prop_offer_id", "book", "side", "line_numeric", "price", "p_model", "ev",
                    "decided_at", "fetched_at"]


def new_store() -> Store:
    store = Store(":memory:")
    store.upsert_games([Game(id="g1", league="nba", start_time=START.to_pydatetime(),
                             home_team="Home", away_team="Away")], START - pd.Timedelta(days=1))
    return store


def put(store: Store, t: pd.Timestamp, quotes: list[tuple], covered: bool = True) -> None:
    """Store one poll: quotes are (book, line, over, under[, suspended]) of one player-market."""
    rows = [{"game_id": "g1", "league": "nba", "player_name": "Jalen Brown",
             "market": "player_points", "book": q[0], "line": q[1], "over_price": q[2],
             "under_price": q[3], "is_suspended": bool(q[4]) if len(q) > 4 else False,
             "fetched_at": t} for q in quotes]
    store.apply_offers(as_offer_frame(rows), now=t)


def at(hours_before: float) -> pd.Timestamp:
    return START - pd.Timedelta(hours=hours_before)


def test_board_is_each_offers_last_quote_at_or_before_the_decision_time():
    store = new_store()
    put(store, at(9), [("draftkings", 20.5, -110, -110), ("fanduel", 20.5, -115, -105)])
    put(store, at(6), [("draftkings", 20.5, -120, 100), ("fanduel", 20.5, -115, -105)])
    put(store, at(5), [("draftkings", 20.5, 150, -180), ("fanduel", 20.5, 150, -180)])
    games = pd.DataFrame({"game_id": ["g1"], "league": ["nba"], "start_time": [START]})
    board = read_boards(store.cursor(), games, [pd.Timedelta(hours=6)])
    prices = dict(zip(board["book"], board["over_price"], strict=True))
    assert prices == {"draftkings": -120.0, "fanduel": -115.0}
    assert (board["fetched_at"] <= board["decided_at"]).all()


def test_withdrawn_and_suspended_quotes_are_not_on_the_board():
    store = new_store()
    put(store, at(9), [("draftkings", 20.5, -110, -110), ("fanduel", 20.5, -110, -110),
                       ("betmgm", 20.5, -110, -110)])
    # draftkings moved to 21.5 (20.5 withdrawn); betmgm suspended the market.
    put(store, at(7), [("draftkings", 21.5, -110, -110), ("fanduel", 20.5, -110, -110),
                       ("betmgm", 20.5, -110, -110, True)])
    games = pd.DataFrame({"game_id": ["g1"], "league": ["nba"], "start_time": [START]})
    board = read_boards(store.cursor(), games, [pd.Timedelta(hours=6)])
    assert sorted(zip(board["book"], board["line_numeric"], strict=True)) == [
        ("draftkings", 21.5), ("fanduel", 20.5)]


def test_an_offer_first_quoted_after_the_decision_time_is_absent():
    store = new_store()
    put(store, at(9), [("draftkings", 20.5, -110, -110)])
    put(store, at(3), [("draftkings", 20.5, -110, -110), ("fanduel", 20.5, 200, -250)])
    games = pd.DataFrame({"game_id": ["g1"], "league": ["nba"], "start_time": [START]})
    board = read_boards(store.cursor(), games, [pd.Timedelta(hours=6)])
    assert list(board["book"]) == ["draftkings"]


def soft_book_history(store: Store) -> None:
    """Three books agree on 20.5 at -110/-110; fanduel hangs +120 on the over."""
    put(store, at(8), [("draftkings", 20.5, -110, -110), ("betmgm", 20.5, -110, -110),
                       ("williamhill_us", 20.5, -110, -110), ("fanduel", 20.5, 120, -150)])


def test_a_soft_price_against_the_other_books_consensus_is_bet_at_the_price_then():
    store = new_store()
    soft_book_history(store)
    result = run_backtest(store, Strategy(min_ev=0.05, decide_before=("6h",)))
    bets = result.bets
    assert len(bets) == 1
    bet = bets.iloc[0]
    assert (bet["book"], bet["side"], bet["price"]) == ("fanduel", "over", 120.0)
    # The other books' no-vig P(over) is exactly 0.5 at this line: EV = 0.5 * 2.2 - 1.
    assert bet["p_model"] == pytest.approx(0.5, abs=1e-9)
    assert bet["ev"] == pytest.approx(0.1, abs=1e-9)


def test_books_filter_limits_where_we_bet_but_not_who_forms_the_consensus():
    store = new_store()
    soft_book_history(store)
    only_dk = run_backtest(store, Strategy(min_ev=0.05, books=("draftkings",)))
    assert only_dk.bets.empty
    with_fd = run_backtest(store, Strategy(min_ev=0.05, books=("fanduel",)))
    assert list(with_fd.bets["book"]) == ["fanduel"]


def test_one_bet_per_player_market_keeps_the_earliest_qualifying_decision():
    store = new_store()
    soft_book_history(store)
    put(store, at(1), [("draftkings", 20.5, -110, -110), ("betmgm", 20.5, -110, -110),
                       ("williamhill_us", 20.5, -110, -110), ("fanduel", 20.5, 130, -160)])
    result = run_backtest(store, Strategy(min_ev=0.05, decide_before=("6h", "30m")))
    assert len(result.bets) == 1
    assert result.bets.iloc[0]["decided_at"] == at(6)
    assert result.bets.iloc[0]["price"] == 120.0


def test_no_consensus_means_no_bet():
    store = new_store()
    put(store, at(8), [("fanduel", 20.5, 200, -250), ("draftkings", 20.5, -110, -110)])
    assert run_backtest(store, Strategy(min_ev=0.05, min_books=2)).bets.empty


# --- no leak ------------------------------------------------------------------------------------
# Snapshot histories are generated straight into the store's schema (any append-only history,
# including withdrawn and suspended rows), so each example costs milliseconds.

american = st.sampled_from([-250, -180, -150, -130, -120, -115, -110, -105, 100, 105, 110, 120,
                            135, 150, 180, 220])
# (book, line, over, under, active, suspended, the model's stored fair P(over))
snapshot = st.tuples(st.sampled_from(BOOKS), st.sampled_from([19.5, 20.5, 21.5]), american,
                     american, st.sampled_from([True] * 5 + [False]),
                     st.sampled_from([False] * 5 + [True]), st.floats(0.05, 0.95))
SCHEMA = (Path(__file__).parents[1] / "propsage" / "migrations" / "001_init.sql").read_text()


def history_db(rows: list[tuple[float, tuple]]) -> duckdb.DuckDBPyConnection:
    """A DuckDB with the store's schema holding one game and the given snapshot rows."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(SCHEMA)
    con.execute("INSERT INTO games_live (id, league, status, start_time, home_team, away_team, "
                "last_updated) VALUES ('g1', 'nba', 'final', ?, 'Home', 'Away', ?)",
                [START, START])
    frame = as_offer_frame([{"game_id": "g1", "league": "nba", "player_name": "Jalen Brown",
                             "market": "player_points", "book": q[0], "line": q[1],
                             "over_price": q[2], "under_price": q[3]} for _, q in rows])
    snaps = pd.DataFrame({
        "prop_offer_id": frame["offer_id"].astype(object), "game_id": "g1", "league": "nba",
        "player_id": frame["player_id"].astype(object), "market": "player_points",
        "book": frame["book"].astype(object), "line_numeric": frame["line"],
        "over_price": frame["over_price"], "under_price": frame["under_price"],
        "is_suspended": [bool(q[5]) for _, q in rows], "is_active": [bool(q[4]) for _, q in rows],
        "fair_over_prob": [q[6] for _, q in rows],
        "fetched_at": [at(round(h, 3)) for h, _ in rows]})
    con.register("snaps", snaps)
    con.execute("INSERT INTO odds_snapshots BY NAME SELECT * FROM snaps")
    return con


# The store never holds two snapshots of one offer at one instant: keep (time, offer) unique.
ONE_PER_INSTANT = {"unique_by": lambda r: (round(r[0], 3), r[1][0], r[1][1])}
past = st.lists(st.tuples(st.floats(6.0, 12.0), snapshot), min_size=2, max_size=12,
                **ONE_PER_INSTANT)
future = st.lists(st.tuples(st.floats(0.01, 5.99), snapshot), min_size=1, max_size=12,
                  **ONE_PER_INSTANT)


@settings(max_examples=30, deadline=None)
@given(past=past, future_a=future, future_b=future, model=st.sampled_from(["consensus", "stored"]))
def test_no_future_snapshot_can_reach_a_decision(past, future_a, future_b, model):
    """Whatever is stored after the decision time (6 h before the start), the bets are the same."""
    strategy = Strategy(model=model, min_ev=-1.0, max_ev=10.0, min_books=1, decide_before=("6h",),
                        one_bet_per="offer")
    a = run_backtest(history_db(past + future_a), strategy).bets
    b = run_backtest(history_db(past + future_b), strategy).bets
    key = ["prop_offer_id", "side"]

    def decisions(bets: pd.DataFrame) -> pd.DataFrame:
        return bets[DECISION_COLUMNS].astype(object).sort_values(key).reset_index(drop=True)

    assert decisions(a).equals(decisions(b))
    assert (a["fetched_at"] <= a["decided_at"]).all()


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(st.floats(0.01, 12.0), snapshot), min_size=1, max_size=16,
                     **ONE_PER_INSTANT),
       decide=st.floats(0.5, 11.0))
def test_board_matches_a_brute_force_replay_of_the_history(rows, decide):
    t = at(decide)
    last: dict[tuple[str, float], tuple] = {}
    for hours, q in sorted(rows, key=lambda r: -r[0]):
        if at(round(hours, 3)) <= t:
            last[(q[0], q[1])] = q
    expected = {k: (float(q[2]), float(q[3])) for k, q in last.items() if q[4] and not q[5]}
    games = pd.DataFrame({"game_id": ["g1"], "league": ["nba"], "start_time": [START]})
    board = read_boards(history_db(rows), games, [START - t])
    got = {(b, ln): (o, u) for b, ln, o, u in zip(board["book"], board["line_numeric"],
                                                   board["over_price"], board["under_price"],
                                                   strict=True)}
    assert got == expected


def test_a_parquet_export_backtests_like_the_live_store(tmp_path):
    from propsage.research import connect, export_parquet

    store = new_store()
    soft_book_history(store)
    store.write_results(pd.DataFrame({"game_id": ["g1"], "player_id": ["jalen-brown"],
                                      "market": ["player_points"], "value": [25.0],
                                      "league": ["nba"], "game_date": ["2025-01-09"]}))
    live = run_backtest(store, Strategy(min_ev=0.05))
    export_parquet(store, tmp_path, seal_all=True)
    con = connect(tmp_path, live_db=None)
    exported = run_backtest(con, Strategy(min_ev=0.05))
    assert exported.bets[DECISION_COLUMNS + ["outcome"]].equals(
        live.bets[DECISION_COLUMNS + ["outcome"]])
    assert np.array_equal(exported.bets["profit_flat"], live.bets["profit_flat"])


def test_boards_of_several_leagues_keep_each_rows_market_and_book():
    store = Store(":memory:")
    rows = []
    for gid, league in (("n1", "nba"), ("f1", "nfl")):
        store.upsert_games([Game(id=gid, league=league, start_time=START.to_pydatetime(),
                                 home_team="H", away_team="A")], START - pd.Timedelta(days=1))
        rows += [{"game_id": gid, "league": league, "market": "h2h", "book": b, "line": 0.0,
                  "over_price": -150, "under_price": 130, "fetched_at": at(8)} for b in BOOKS]
    store.apply_offers(as_offer_frame(rows), now=at(8))
    games = pd.DataFrame({"game_id": ["n1", "f1"], "league": ["nba", "nfl"],
                          "start_time": [START, START]})
    board = read_boards(store.cursor(), games, [pd.Timedelta(hours=6)])
    got = sorted(zip(board["game_id"].astype(str), board["league"].astype(str),
                     board["market"].astype(str), board["book"].astype(str), strict=True))
    assert got == sorted((g, lg, "h2h", b) for g, lg in (("n1", "nba"), ("f1", "nfl"))
                         for b in BOOKS)


def test_quotes_unchanged_for_longer_than_max_quote_age_are_not_bet():
    store = new_store()
    put(store, at(30), [("fanduel", 20.5, 120, -150)])                # a day-old soft price
    put(store, at(8), [("draftkings", 20.5, -110, -110), ("betmgm", 20.5, -110, -110),
                       ("williamhill_us", 20.5, -110, -110)], )
    fresh = Strategy(min_ev=0.05, max_quote_age="12h")
    assert list(run_backtest(store, Strategy(min_ev=0.05)).bets["book"]) == ["fanduel"]
    assert run_backtest(store, fresh).bets.empty
