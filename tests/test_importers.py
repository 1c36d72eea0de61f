"""Importing history: every board stored as of its capture time."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pytest

from propsage.importers import (
    csv_capture_time,
    game_id_for,
    import_box_scores,
    import_capture,
    import_historical,
    import_line_changes,
    import_prop_csv,
)
from propsage.store import Store

KICKOFF = "2025-11-23T18:00:00Z"


def event(spread: float, home_price: int = -110, books: tuple[str, ...] = ("draftkings",)) -> dict:
    """One featured-odds event as The Odds API returns it."""
    return {"id": "ev1", "sport_key": "americanfootball_nfl", "commence_time": KICKOFF,
            "home_team": "Buffalo Bills", "away_team": "Miami Dolphins",
            "bookmakers": [{"key": b, "last_update": "2025-11-22T10:00:00Z", "markets": [
                {"key": "spreads", "outcomes": [
                    {"name": "Buffalo Bills", "price": home_price, "point": spread},
                    {"name": "Miami Dolphins", "price": -110, "point": -spread}]},
                {"key": "h2h", "outcomes": [{"name": "Buffalo Bills", "price": -250},
                                            {"name": "Miami Dolphins", "price": 200}]}]}
                for b in books]}


def wrapper(ts: str, data: list) -> dict:
    return {"timestamp": ts, "previous_timestamp": None, "next_timestamp": None, "data": data}


def test_historical_responses_are_stored_oldest_first_at_their_timestamps(store, tmp_path):
    late = tmp_path / "b.json"
    early = tmp_path / "a.json"
    late.write_text(json.dumps(wrapper("2025-11-22T12:00:00Z", [event(-7.0)])))
    early.write_text(json.dumps(wrapper("2025-11-22T10:00:00Z", [event(-6.5)])))
    rep = import_historical(store, [late, early])
    assert rep.snapshots_in == 2 and rep.games == 1
    snaps = store.query("SELECT line_numeric, is_active, fetched_at FROM odds_snapshots "
                        "WHERE market = 'spreads' ORDER BY fetched_at, line_numeric")
    assert snaps["line_numeric"].tolist() == [-6.5, -7.0, -6.5]
    assert snaps["is_active"].tolist() == [True, True, False]       # the old line withdrawn
    assert snaps["fetched_at"].tolist() == [pd.Timestamp("2025-11-22T10:00:00Z"),
                                            pd.Timestamp("2025-11-22T12:00:00Z"),
                                            pd.Timestamp("2025-11-22T12:00:00Z")]
    board = store.board_as_of("2025-11-22T11:00:00Z")
    assert board.loc[board["market"] == "spreads", "line_numeric"].tolist() == [-6.5]


def test_a_response_without_the_wrapper_is_refused(store, tmp_path):
    bare = tmp_path / "x.json"
    bare.write_text(json.dumps([event(-6.5)]))
    with pytest.raises(ValueError, match="historical"):
        import_historical(store, [bare])


def test_a_capture_file_is_replayed_at_its_snapshot_times(store, tmp_path):
    path = tmp_path / "cap.jsonl.gz"
    lines = [{"snapshot_time": "2025-11-22T10:20:00+00:00", "data": [event(-6.5, -110)]},
             {"snapshot_time": "2025-11-22T10:40:00+00:00", "data": [event(-6.5, -110)]},
             {"snapshot_time": "2025-11-22T11:00:00+00:00", "data": [event(-6.5, -120)]}]
    with gzip.open(path, "wt") as fh:
        fh.write("\n".join(json.dumps(x) for x in lines))
    rep = import_capture(store, path)
    assert rep.snapshots_in == 3
    hist = store.query("SELECT over_price, fetched_at FROM odds_snapshots "
                       "WHERE market = 'spreads' ORDER BY fetched_at")
    # The unchanged middle poll adds no snapshot; the price change does.
    assert hist["over_price"].tolist() == [-110, -120]
    assert hist["fetched_at"].iloc[-1] == pd.Timestamp("2025-11-22T11:00:00Z")


def props_csv(tmp_path, rows: list[tuple], name: str = "props_2024-11-20_player_threes.csv"):
    df = pd.DataFrame(rows, columns=["player", "game", "game_time", "market", "line",
                                     "bookmaker", "over_odds", "under_odds"])
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


GAME = ("Chicago Bulls @ Milwaukee Bucks", "2024-11-21T00:40:00Z")


def test_csv_props_get_the_box_score_game_id_and_the_files_capture_time(store, tmp_path):
    path = props_csv(tmp_path, [
        ("Coby White", *GAME, "player_threes", 3.5, "fanduel", 112, -142),
        ("Coby White", *GAME, "player_threes", 3.5, "betmgm", 105, -135)])
    import_prop_csv(store, [path])
    snaps = store.query("SELECT game_id, player_id, book, fetched_at FROM odds_snapshots")
    # 00:40 UTC on the 21st is the evening of the 20th in the US.
    assert set(snaps["game_id"]) == {"nba-2024-11-20-CHI-MIL"}
    assert set(snaps["player_id"]) == {"coby-white"}
    assert set(snaps["fetched_at"]) == {pd.Timestamp("2024-11-20T15:00:00Z")}
    assert store.games()["start_time"].tolist() == [pd.Timestamp(GAME[1])]


def test_the_capture_time_never_follows_the_first_game():
    early = pd.DataFrame({"game_time": ["2024-11-20T14:00:00Z"]})
    assert csv_capture_time("props_2024-11-20_x.csv", early) == pd.Timestamp(
        "2024-11-20T13:59:00Z")


def test_csv_props_grade_against_box_scores_by_game_id(store, tmp_path):
    from propsage.backtest import run_backtest

    path = props_csv(tmp_path, [
        ("Coby White", *GAME, "player_threes", 3.5, "fanduel", 150, -190),
        ("Coby White", *GAME, "player_threes", 3.5, "betmgm", -110, -110),
        ("Coby White", *GAME, "player_threes", 3.5, "draftkings", -110, -110),
        ("Coby White", *GAME, "player_threes", 3.5, "williamhill_us", -110, -110)])
    import_prop_csv(store, [path])
    box = tmp_path / "box.csv"
    pd.DataFrame({"player": ["Coby White"], "player_id": [1], "date": ["2024-11-20"],
                  "matchup": ["CHI @ MIL"], "pts": [20], "reb": [4], "ast": [5],
                  "threes_made": [4]}).to_csv(box, index=False)
    assert import_box_scores(store, box) >= 1
    bets = run_backtest(store, {"min_ev": 0.05, "decide_before": ["30m"]}).bets
    assert bets[["book", "side", "outcome"]].values.tolist() == [["fanduel", "over", "win"]]


def change_rows() -> pd.DataFrame:
    base = {"event_id": "ev1", "sport_key": "americanfootball_nfl", "commence_time": KICKOFF,
            "home_team": "Buffalo Bills", "away_team": "Miami Dolphins",
            "bookmaker_key": "fanduel", "market_key": "spreads", "is_pregame": 1,
            "market_last_update": "2025-11-22T10:00:00Z"}
    rows = [
        ("2025-11-22T10:00:00+00:00", "Buffalo Bills", -6.5, -110),
        ("2025-11-22T10:00:00+00:00", "Miami Dolphins", 6.5, -110),
        ("2025-11-22T11:00:00+00:00", "Buffalo Bills", -6.5, -120),   # one side changed
        ("2025-11-22T12:00:00+00:00", "Buffalo Bills", -7.0, -110),   # the line moved
        ("2025-11-22T12:00:00+00:00", "Miami Dolphins", 7.0, -110),
    ]
    return pd.DataFrame([{**base, "snapshot_time": t, "outcome_name": n, "outcome_point": p,
                          "outcome_price": pr} for t, n, p, pr in rows])


def test_a_change_log_carries_unchanged_sides_forward_and_withdraws_moved_lines(store):
    import_line_changes(store, change_rows())
    hist = store.query("SELECT line_numeric, over_price, under_price, is_active, fetched_at "
                       "FROM odds_snapshots ORDER BY fetched_at, line_numeric")
    assert hist[["line_numeric", "over_price", "under_price", "is_active"]].values.tolist() == [
        [-6.5, -110, -110, True],
        [-6.5, -120, -110, True],           # the away side kept its -110
        [-7.0, -110, -110, True],
        [-6.5, -120, -110, False]]


def test_import_command_loads_csv_props(db_path, tmp_path, capsys):
    from propsage.cli import main

    path = props_csv(tmp_path, [("Coby White", *GAME, "player_threes", 3.5, "fanduel", 112,
                                 -142)])
    assert main(["import", "csv", str(path), "--db", str(db_path)]) == 0
    assert "imported 1 boards" in capsys.readouterr().out
    with Store(db_path, read_only=True) as s:
        assert s.count("odds_snapshots") == 1


def test_game_ids_outside_the_nba_table_are_stable_hashes():
    t = pd.Timestamp(KICKOFF)
    assert game_id_for("nfl", "Buffalo Bills", "Miami Dolphins", t) == game_id_for(
        "nfl", "Buffalo Bills", "Miami Dolphins", t)
    assert game_id_for("nfl", "Buffalo Bills", "Miami Dolphins", t) != game_id_for(
        "nfl", "Miami Dolphins", "Buffalo Bills", t)


@pytest.mark.realdata
def test_real_nba_props_join_box_scores(shared, tmp_path):
    props = shared / "odds-api-nba-props" / "player_threes_2024_25"
    files = sorted(props.glob("props_2024-11-2*_player_threes.csv.gz"))[:2]
    with Store(tmp_path / "r.duckdb") as store:
        rep = import_prop_csv(store, files)
        import_box_scores(store, shared / "nba-stats" / "player_game_logs_2024_25.csv.gz")
        joined = store.query(
            "SELECT avg(CASE WHEN r.value IS NULL THEN 0 ELSE 1 END) AS share FROM "
            "odds_snapshots s LEFT JOIN results r USING (game_id, player_id, market)")
    assert rep.quotes > 500
    # Rookies are missing from the box scores; the rest join by name and US date.
    assert joined["share"].iloc[0] > 0.8


@pytest.mark.realdata
def test_real_capture_lines_store_snapshots_at_capture_time(shared, tmp_path):
    src = shared / "odds-api-nfl" / "nfl_odds_snapshots_2025wk12.jsonl.gz"
    part = tmp_path / "part.jsonl"
    with gzip.open(src, "rt") as fh, part.open("w") as out:
        times = []
        for _, line in zip(range(5), fh, strict=False):
            out.write(line)
            times.append(pd.Timestamp(json.loads(line)["snapshot_time"]))
    with Store(tmp_path / "r.duckdb") as store:
        import_capture(store, part)
        got = set(store.query("SELECT DISTINCT fetched_at FROM odds_snapshots")["fetched_at"])
        lines = store.query("SELECT DISTINCT market FROM odds_snapshots")["market"]
    assert got <= set(times) and min(times) in got
    assert set(lines) == {"h2h", "spreads", "totals"}
    assert np.isfinite(len(got))
