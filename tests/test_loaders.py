"""Stat loaders -> players and results frames."""

from __future__ import annotations

import pandas as pd
import pytest

from propsage.loaders import (
    RESULT_COLUMNS,
    load_nba_box_scores,
    load_nfl_weekly,
    load_results_file,
    load_sample,
)
from propsage.loaders.sample import SAMPLE_PATH, generate_sample


def _nba_rows():
    # Made-up lines in the nba_api game-log format (columns that the loader reads).
    return pd.DataFrame({
        "player": ["Luka Dončić", "Jaren Jackson Jr."],
        "date": ["2025-01-10", "2025-01-10"],
        "matchup": ["DAL @ MEM", "MEM vs. DAL"],
        "pts": [31, 22], "reb": [9, 6], "ast": [8, 1], "threes_made": [4, 2],
        "stl": [1, 0], "blk": [0, 3], "tov": [4, 2],
    })


def test_nba_box_scores_become_results_per_market():
    players, results = load_nba_box_scores(_nba_rows())
    assert list(results.columns) == RESULT_COLUMNS
    luka = results[results["player_id"] == "luka-doncic"].set_index("market")["value"]
    assert luka["player_points"] == 31 and luka["player_threes"] == 4
    assert luka["player_points_rebounds_assists"] == 48
    assert set(results["game_id"]) == {"nba-2025-01-10-DAL-MEM"}
    jjj = players.set_index("player_id").loc["jaren-jackson"]
    assert (jjj["name"], jjj["team"], jjj["league"]) == ("Jaren Jackson Jr.", "MEM", "nba")


def _nfl_rows():
    return pd.DataFrame({
        "Name": ["Sam Quarter", "Rex Runner", "Kyle Kicker"], "Position": ["QB", "RB", "K"],
        "Year": [2022, 2022, 2022], "Week": [1, 1, 1], "Team": ["KC", "ARI", "KC"],
        "Opponent": ["ARI", "KC", "ARI"], "Pass_Att": [30, 0, 0], "Pass_Cmp": [21, 0, 0],
        "Pass_Yds": [280, 0, 0], "Pass_TD": [2, 0, 0], "Int": [1, 0, 0],
        "Rush_Att": [3, 15, 0], "Rush_Yds": [12, 64, 0], "Rush_TD": [0, 1, 0],
        "Rec": [0, 3, 0], "Rec_Yds": [0, 21, 0], "Rec_TD": [0, 0, 0],
    })


def test_nfl_weekly_stats_keep_each_positions_markets():
    players, results = load_nfl_weekly(_nfl_rows())
    qb = results[results["player_id"] == "sam-quarter"].set_index("market")["value"]
    rb = results[results["player_id"] == "rex-runner"].set_index("market")["value"]
    assert qb["player_pass_yds"] == 280 and "player_receptions" not in qb
    assert rb["player_rush_reception_yds"] == 85 and rb["player_anytime_td"] == 1
    assert "player_pass_yds" not in rb
    assert "kyle-kicker" not in set(results["player_id"])
    # week 1 of 2022 was the Sunday after Labor Day (Sept 5): Sept 11
    assert results["game_date"].iloc[0] == pd.Timestamp("2022-09-11")
    assert set(results["game_id"]) == {"nfl-2022-w01-ARI-KC"}


def test_user_wide_csv_with_a_column_mapping(tmp_path):
    path = tmp_path / "mine.csv"
    pd.DataFrame({"Player": ["Ann Shooter", "Ann Shooter"], "Date": ["2025-03-01", "2025-03-03"],
                  "Team": ["SEA", "SEA"], "PTS": [18, 25], "3PM": [3, 5]}).to_csv(path,
                                                                              index=False)
    players, results = load_results_file(
        path, columns={"Player": "player_name", "Date": "game_date", "Team": "team"},
        stats={"PTS": "player_points", "3PM": "player_threes"}, league="wnba")
    assert len(results) == 4
    assert results.set_index(["game_date", "market"]).loc[
        (pd.Timestamp("2025-03-03"), "player_threes"), "value"] == 5
    assert results["game_id"].iloc[0] == "wnba-2025-03-01-SEA"
    assert players["player_id"].tolist() == ["ann-shooter"]


def test_user_long_parquet(tmp_path):
    path = tmp_path / "mine.parquet"
    pd.DataFrame({"player_name": ["Bo Back"], "game_date": ["2024-10-06"], "league": ["nfl"],
                  "market": ["player_rush_yds"], "value": [88.0]}).to_parquet(path)
    _, results = load_results_file(path)
    assert results.iloc[0][["player_id", "market", "value", "source"]].tolist() == [
        "bo-back", "player_rush_yds", 88.0, "user"]


def test_user_file_without_stats_says_what_is_missing():
    with pytest.raises(ValueError, match="stats="):
        load_results_file(pd.DataFrame({"player_name": ["x"], "game_date": ["2025-01-01"],
                                        "PTS": [3]}))


def test_shipped_sample_is_the_generated_one():
    shipped = pd.read_csv(SAMPLE_PATH)
    regenerated = generate_sample()
    pd.testing.assert_frame_equal(shipped, regenerated, check_dtype=False)
    players, results = load_sample()
    assert {"nba", "nfl"} == set(results["league"])
    assert len(players) == results["player_id"].nunique()


@pytest.mark.realdata
def test_real_box_scores_and_weekly_stats_load(shared):
    _, nba = load_nba_box_scores(shared / "nba-stats" / "player_game_logs_2024_25.csv.gz")
    assert nba["game_id"].nunique() == 1230          # a full regular season
    _, nfl = load_nfl_weekly(shared / "nfl-stats" / "nfl_weekly_player_stats_2018_2022.csv.gz")
    assert nfl["game_date"].dt.day_of_week.eq(6).all()
    assert set(nfl["position"]) == {"QB", "RB", "WR", "TE"}
