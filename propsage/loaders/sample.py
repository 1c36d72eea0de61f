"""A small generated sample of results so the app has priors without the real data.

Fictional players (names not taken from any data set) with 20 NBA games or 12 NFL weeks each,
drawn from a seeded generator with the same families the pricing uses (negative binomial
counts, gamma yards with some zero games, Bernoulli touchdowns). Regenerate with
``python -m propsage.loaders.sample`` (deterministic: the same file every time).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from propsage.domain import normalize_player_id
from propsage.loaders.stats import Loaded, load_results_file
from propsage.paths import DATA_DIR

SAMPLE_PATH = DATA_DIR / "sample_results.csv"

NBA_PLAYERS = [  # name, team, position, (points, rebounds, assists, threes) means
    ("Avery Calloway", "BOS", "G", (24.0, 4.5, 6.5, 3.1)),
    ("Desmond Okafor", "DEN", "C", (18.0, 11.0, 3.0, 0.4)),
    ("Marco Villanueva", "MIL", "F", (15.5, 6.5, 2.5, 1.8)),
    ("Theo Lindqvist", "NYK", "G", (11.0, 3.0, 7.5, 1.5)),
    ("Jamal Pritchett", "PHX", "F", (21.0, 7.0, 4.0, 2.2)),
    ("Rory Castellano", "MIA", "G", (8.5, 2.5, 2.0, 1.6)),
]
NFL_PLAYERS = [  # name, team, position, {market: mean}
    ("Cole Ashworth", "KC", "QB", {"pass_yds": 265.0, "pass_tds": 1.9, "rush_yds": 18.0}),
    ("Dante Whitfield", "BUF", "RB", {"rush_yds": 72.0, "rec_yds": 22.0, "rec": 3.0}),
    ("Silas Mercer", "DET", "RB", {"rush_yds": 28.0, "rec_yds": 9.0, "rec": 1.2}),
    ("Kieran Baptiste", "PHI", "WR", {"rec_yds": 78.0, "rec": 6.0}),
    ("Nolan Esposito", "BAL", "TE", {"rec_yds": 41.0, "rec": 4.0}),
]


def _nb(rng: np.random.Generator, mean: float, r: float, size: int) -> np.ndarray:
    return rng.negative_binomial(r, r / (r + mean), size).astype(float)


def _yards(rng: np.random.Generator, mean: float, k: float, zero: float, size: int) -> np.ndarray:
    y = np.round(rng.gamma(k, mean / k, size))
    return np.where(rng.random(size) < zero, 0.0, y)


def generate_sample(seed: int = 20240601) -> pd.DataFrame:
    """The sample results (long format: player_name, team, position, league, game_date,
    game_id, market, value)."""
    rng = np.random.default_rng(seed)
    rows = []
    nba_start = pd.Timestamp("2025-01-02")
    for name, team, pos, (pts, reb, ast, thr) in NBA_PLAYERS:
        n = 20
        stat = {"player_points": _nb(rng, pts, 8, n), "player_rebounds": _nb(rng, reb, 19, n),
                "player_assists": _nb(rng, ast, 14, n), "player_threes": _nb(rng, thr, 12, n)}
        stat["player_points_rebounds_assists"] = (stat["player_points"]
                                                  + stat["player_rebounds"]
                                                  + stat["player_assists"])
        for i in range(n):
            day = nba_start + pd.Timedelta(days=2 * i)
            for market, values in stat.items():
                rows.append((name, team, pos, "nba", day, f"nba-sample-{i:02d}-{team}", market,
                             values[i]))
    nfl_start = pd.Timestamp("2024-09-08")
    for name, team, pos, means in NFL_PLAYERS:
        n = 12
        stat: dict[str, np.ndarray] = {}
        if "pass_yds" in means:
            stat["player_pass_yds"] = _yards(rng, means["pass_yds"], 8.0, 0.0, n)
            stat["player_pass_tds"] = rng.poisson(means["pass_tds"], n).astype(float)
        if "rush_yds" in means:
            stat["player_rush_yds"] = _yards(rng, means["rush_yds"], 1.8, 0.1, n)
        if "rec" in means:
            stat["player_receptions"] = _nb(rng, means["rec"], 15, n)
            stat["player_reception_yds"] = np.where(
                stat["player_receptions"] > 0, _yards(rng, means["rec_yds"], 1.9, 0.0, n), 0.0)
        if pos != "QB":
            rush = stat.get("player_rush_yds", np.zeros(n))
            stat["player_rush_reception_yds"] = rush + stat["player_reception_yds"]
        td_rate = {"QB": 0.2, "RB": 0.45, "WR": 0.4, "TE": 0.3}[pos]
        stat["player_anytime_td"] = (rng.random(n) < td_rate).astype(float)
        for i in range(n):
            day = nfl_start + pd.Timedelta(weeks=i)
            for market, values in stat.items():
                rows.append((name, team, pos, "nfl", day, f"nfl-sample-w{i + 1:02d}-{team}",
                             market, values[i]))
    df = pd.DataFrame(rows, columns=["player_name", "team", "position", "league", "game_date",
                                     "game_id", "market", "value"])
    df["player_id"] = df["player_name"].map(normalize_player_id)
    df["game_date"] = df["game_date"].dt.strftime("%Y-%m-%d")
    return df


def write_sample(path: Path = SAMPLE_PATH) -> Path:
    """Write the sample CSV (deterministic) and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    generate_sample().to_csv(path, index=False, float_format="%g")
    return path


def load_sample(path: Path = SAMPLE_PATH) -> Loaded:
    """The shipped sample as players, results (generated in memory if the file is missing)."""
    source = path if path.exists() else generate_sample()
    return load_results_file(source, source_name="sample")


if __name__ == "__main__":
    print(write_sample(Path(sys.argv[1]) if len(sys.argv) > 1 else SAMPLE_PATH))
