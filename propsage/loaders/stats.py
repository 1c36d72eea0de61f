"""Stat loaders: NBA box scores, NFL weekly stats and a user's CSV/Parquet -> players, results.

All loaders return ``Loaded(players, results)``:

- results (the store's ``results`` table, one row per player, game and market):
  game_id, league, game_date (datetime64, the game's US date), player_id
  (``normalize_player_id`` of the name), player_name, team, position, market (Odds API key),
  value (float), source
- players: player_id, name, team, position, league (latest game's team and position)

NBA box scores (``../shared/data/nba-stats/player_game_logs_*.csv.gz``: player, date, matchup
'DET @ MIL' / 'MIL vs. DET', pts, reb, ast, threes_made, stl, blk, tov, ...): game_id is
``nba-<date>-<away>-<home>``; no positions in the source.

NFL weekly stats (``../shared/data/nfl-stats/nfl_weekly_player_stats_*.csv.gz``: Name, Position,
Year, Week, Team, Opponent, Pass_Yds, Rush_Yds, Rec, ...): the source has no game date, so
game_date is the Sunday of that week (week 1 = the Sunday after Labor Day) and game_id is
``nfl-<year>-w<week>-<team>-<team>`` (teams sorted). Markets are kept only for the positions
that have them (passing: QB; rushing: QB, RB; receiving and rush + receiving: RB, WR, TE;
anytime TD = rushing + receiving TDs > 0: QB, RB, WR, TE). Kickers and defences are dropped.

User files (``load_results_file``), long or wide, after renaming with ``columns``
({their column: our column}):
- long: columns player_name (or player_id), game_date, market, value
- wide: player_name (or player_id), game_date and one column per stat, mapped to market keys
  with ``stats`` ({their stat column: market key})
Optional: game_id (default ``<league>-<date>-<team or player_id>``), league (or the
``league`` argument), team, position, player_id (default from the name).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from propsage.domain import normalize_player_id

RESULT_COLUMNS = ["game_id", "league", "game_date", "player_id", "player_name", "team",
                  "position", "market", "value", "source"]
PLAYER_COLUMNS = ["player_id", "name", "team", "position", "league"]

NBA_MARKETS: dict[str, tuple[str, ...]] = {
    "player_points": ("pts",),
    "player_rebounds": ("reb",),
    "player_assists": ("ast",),
    "player_threes": ("threes_made",),
    "player_blocks": ("blk",),
    "player_steals": ("stl",),
    "player_turnovers": ("tov",),
    "player_points_rebounds_assists": ("pts", "reb", "ast"),
    "player_points_rebounds": ("pts", "reb"),
    "player_points_assists": ("pts", "ast"),
    "player_rebounds_assists": ("reb", "ast"),
}
# market -> (source columns summed, positions that have the market)
NFL_MARKETS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "player_pass_yds": (("Pass_Yds",), ("QB",)),
    "player_pass_tds": (("Pass_TD",), ("QB",)),
    "player_pass_completions": (("Pass_Cmp",), ("QB",)),
    "player_pass_attempts": (("Pass_Att",), ("QB",)),
    "player_pass_interceptions": (("Int",), ("QB",)),
    "player_rush_yds": (("Rush_Yds",), ("QB", "RB")),
    "player_rush_attempts": (("Rush_Att",), ("QB", "RB")),
    "player_rush_tds": (("Rush_TD",), ("QB", "RB")),
    "player_receptions": (("Rec",), ("RB", "WR", "TE")),
    "player_reception_yds": (("Rec_Yds",), ("RB", "WR", "TE")),
    "player_reception_tds": (("Rec_TD",), ("RB", "WR", "TE")),
    "player_rush_reception_yds": (("Rush_Yds", "Rec_Yds"), ("RB", "WR", "TE")),
    "player_anytime_td": (("Rush_TD", "Rec_TD"), ("QB", "RB", "WR", "TE")),
}


class Loaded(NamedTuple):
    """What a loader returns: the players and results frames."""

    players: pd.DataFrame
    results: pd.DataFrame


def _read(source: str | os.PathLike | pd.DataFrame) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        return source.copy()
    path = Path(source)
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path)


def _results(frame: pd.DataFrame) -> pd.DataFrame:
    """Canonical dtypes and column order, one row per (game, player, market)."""
    df = frame.copy()
    for col in ("team", "position", "source", "league"):
        if col not in df:
            df[col] = ""
    df["game_date"] = pd.to_datetime(df["game_date"]).dt.normalize()
    df["value"] = df["value"].astype(float)
    for col in RESULT_COLUMNS:
        if col not in ("game_date", "value"):
            df[col] = df[col].fillna("").astype(str)
    df = df[df["player_id"] != ""].dropna(subset=["value"])
    df = df.drop_duplicates(["game_id", "player_id", "market"], keep="last")
    return df[RESULT_COLUMNS].sort_values(["game_date", "game_id", "player_id", "market"],
                                          kind="stable").reset_index(drop=True)


def players_from_results(results: pd.DataFrame) -> pd.DataFrame:
    """One row per player: the name, team and position of his latest game."""
    if results.empty:
        return pd.DataFrame({c: pd.Series(dtype=str) for c in PLAYER_COLUMNS})
    last = results.sort_values("game_date", kind="stable").drop_duplicates("player_id",
                                                                            keep="last")
    return (last.rename(columns={"player_name": "name"})[PLAYER_COLUMNS]
            .sort_values("player_id").reset_index(drop=True))


def _loaded(results: pd.DataFrame) -> Loaded:
    res = _results(results)
    return Loaded(players_from_results(res), res)


def load_nba_box_scores(source: str | os.PathLike | pd.DataFrame,
                        source_name: str = "nba-stats") -> Loaded:
    """NBA player game logs (nba_api format) -> players, results."""
    df = _read(source)
    parts = df["matchup"].astype(str).str.extract(r"^(\w+)\s+(@|vs\.?)\s+(\w+)$")
    team, sep, opp = parts[0], parts[1], parts[2]
    away = np.where(sep == "@", team, opp)
    home = np.where(sep == "@", opp, team)
    date = pd.to_datetime(df["date"]).dt.strftime("%Y-%m-%d")
    base = pd.DataFrame({
        "game_id": "nba-" + date + "-" + pd.Series(away, index=df.index).astype(str) + "-"
        + pd.Series(home, index=df.index).astype(str),
        "league": "nba", "game_date": df["date"],
        "player_id": df["player"].astype(str).map(normalize_player_id),
        "player_name": df["player"].astype(str), "team": team.fillna(""), "position": "",
        "source": source_name,
    })
    frames = []
    for market, cols in NBA_MARKETS.items():
        if all(c in df for c in cols):
            frames.append(base.assign(market=market, value=df[list(cols)].sum(axis=1,
                                                                              min_count=1)))
    return _loaded(pd.concat(frames, ignore_index=True))


def _nfl_week_sunday(year: pd.Series, week: pd.Series) -> pd.Series:
    """The Sunday of an NFL week: week 1 is the Sunday after Labor Day (1st Monday of Sept)."""
    sept1 = pd.to_datetime(year.astype(int).astype(str) + "-09-01")
    labor_day = sept1 + pd.to_timedelta((7 - sept1.dt.day_of_week) % 7, unit="D")
    return labor_day + pd.to_timedelta(6 + 7 * (week.astype(int) - 1), unit="D")


def load_nfl_weekly(source: str | os.PathLike | pd.DataFrame,
                    source_name: str = "nfl-stats") -> Loaded:
    """NFL weekly player stats (footballdb format) -> players, results."""
    df = _read(source)
    df = df[df["Position"].isin(["QB", "RB", "WR", "TE"])]
    team, opp = df["Team"].astype(str), df["Opponent"].astype(str)
    pair = np.where(team < opp, team + "-" + opp, opp + "-" + team)
    gid = ("nfl-" + df["Year"].astype(int).astype(str) + "-w"
           + df["Week"].astype(int).map("{:02d}".format) + "-" + pair)
    base = pd.DataFrame({
        "game_id": gid, "league": "nfl", "game_date": _nfl_week_sunday(df["Year"], df["Week"]),
        "player_id": df["Name"].astype(str).map(normalize_player_id),
        "player_name": df["Name"].astype(str), "team": team, "position": df["Position"],
        "source": source_name,
    })
    frames = []
    for market, (cols, positions) in NFL_MARKETS.items():
        if not all(c in df for c in cols):
            continue
        keep = df["Position"].isin(positions).to_numpy()
        value = df[list(cols)].sum(axis=1, min_count=1)
        if market == "player_anytime_td":
            value = (value > 0).astype(float)
        frames.append(base[keep].assign(market=market, value=value[keep]))
    return _loaded(pd.concat(frames, ignore_index=True))


def load_results_file(source: str | os.PathLike | pd.DataFrame, *,
                      columns: Mapping[str, str] | None = None,
                      stats: Mapping[str, str] | None = None, league: str | None = None,
                      source_name: str = "user") -> Loaded:
    """A user's CSV/Parquet (long or wide; see module docstring) -> players, results."""
    df = _read(source).rename(columns=dict(columns or {}))
    if "player_name" not in df and "player_id" not in df:
        raise ValueError("results need a player_name or player_id column (map it with columns=)")
    if "game_date" not in df:
        raise ValueError("results need a game_date column (map it with columns=)")
    if "player_name" not in df:
        df["player_name"] = df["player_id"]
    if "player_id" not in df:
        df["player_id"] = df["player_name"].astype(str).map(normalize_player_id)
    if league is not None or "league" not in df:
        df["league"] = league or ""
    if "market" not in df or "value" not in df:
        if not stats:
            raise ValueError("a wide file needs stats={their column: market key}; a long one "
                             "needs market and value columns")
        missing = [c for c in stats if c not in df]
        if missing:
            raise ValueError(f"stat columns not in the file: {missing}")
        ids = [c for c in df.columns if c not in stats]
        df = df.melt(id_vars=ids, value_vars=list(stats), var_name="market", value_name="value")
        df["market"] = df["market"].map(dict(stats))
    if "game_id" not in df:
        who = df["team"].astype(str) if "team" in df else df["player_id"].astype(str)
        df["game_id"] = (df["league"].astype(str) + "-"
                         + pd.to_datetime(df["game_date"]).dt.strftime("%Y-%m-%d") + "-" + who)
    df["source"] = source_name
    return _loaded(df)
