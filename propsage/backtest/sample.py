"""A small, deterministic sample store for notebooks, tests and demos (no network, no real data).

The simulated market (``propsage.providers.mock``) is polled pre-game on a frozen clock every
``poll_minutes`` through the real ingest path and pricer, then every player-market's result is
drawn from the simulation's true mean and spread. Twelve past games per player (drawn from the
same truth) give the pricer its priors. Books lag the true mean, so a sharp consensus has real
(small) edges.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from propsage.domain import normalize_player_id
from propsage.paths import DATA_DIR
from propsage.providers.mock import MockDataProvider
from propsage.store import Store

SAMPLE_ANCHOR = pd.Timestamp("2025-11-20T20:00:00Z")
DEFAULT_SAMPLE = DATA_DIR / "sample.duckdb"
COUNT_MARKETS = ("player_pass_tds", "player_rush_tds", "player_receptions", "player_points",
                 "player_rebounds", "player_assists", "player_threes",
                 "player_points_rebounds_assists", "batter_hits", "batter_total_bases",
                 "pitcher_strikeouts")


class _ClockedMock(MockDataProvider):
    """The simulated market on a clock the caller sets (deterministic timestamps)."""

    def __init__(self, *args, clock: pd.Timestamp, **kwargs):  # noqa: ANN002, ANN003
        self._t = clock
        super().__init__(*args, **kwargs)

    def now(self) -> pd.Timestamp:
        """The simulation clock."""
        return self._t

    def advance(self, delta: pd.Timedelta) -> None:
        """Move the simulation clock forward."""
        self._t = self._t + delta


def simulated_results(provider: MockDataProvider, seed: int = 0) -> pd.DataFrame:
    """One drawn result per player-market (and game totals / home margin) of every game."""
    rng = np.random.default_rng(seed)
    rows = []
    # The mock keeps each game's true means in private state; a sample generator may read it.
    for gid, gb in provider._games.items():   # noqa: SLF001
        pm = gb.frame.drop_duplicates("pm").sort_values("pm")
        draw = rng.normal(gb.mu, gb.sd)
        margin = None
        for _, r in pm.iterrows():
            k, market = int(r["pm"]), str(r["market"])
            v = float(draw[k])
            if market == "player_anytime_td":
                v = float(rng.random() < np.clip(gb.mu[k], 0.02, 0.95))
            elif market in ("spreads", "h2h"):
                margin = float(np.round(draw[k])) if margin is None else margin
                v = margin
            else:
                v = float(max(np.round(v), 0.0)) if market != "totals" else float(np.round(v))
            pid = normalize_player_id(str(r["player_name"])) if r["player_name"] else ""
            rows.append({"game_id": gid, "league": gb.game.league,
                         "game_date": pd.Timestamp(gb.game.start_time).date(), "player_id": pid,
                         "player_name": r["player_name"], "team": r["team"] or None,
                         "position": r["position"] or None, "market": market, "value": v,
                         "source": "mock"})
    return pd.DataFrame(rows)


def simulated_history(provider: MockDataProvider, n_games: int = 12, seed: int = 1
                      ) -> pd.DataFrame:
    """Past results of every simulated player (before the sample's games), for the priors."""
    rng = np.random.default_rng(seed)
    rows = []
    for gb in provider._games.values():   # noqa: SLF001
        start = pd.Timestamp(gb.game.start_time)
        pm = gb.frame.drop_duplicates("pm").sort_values("pm")
        pm = pm[pm["player_name"] != ""]
        for j in range(1, n_games + 1):
            day = (start - pd.Timedelta(days=3 * j)).date()
            draw = rng.normal(gb.mu, gb.sd)
            for r in pm.itertuples(index=False):
                k, market = int(r.pm), str(r.market)
                if market == "player_anytime_td":
                    v = float(rng.random() < np.clip(gb.mu[k], 0.02, 0.95))
                else:
                    v = float(max(np.round(draw[k]), 0.0))
                rows.append({"game_id": f"hist-{gb.game.id}-{j}", "league": gb.game.league,
                             "game_date": day, "player_id": normalize_player_id(r.player_name),
                             "player_name": r.player_name, "team": r.team,
                             "position": r.position, "market": market, "value": v,
                             "source": "mock-history"})
    return pd.DataFrame(rows)


def build_sample(path: str | Path = DEFAULT_SAMPLE, *, n_games: int = 6, seed: int = 7,
                 leagues: tuple[str, ...] = ("nba", "nfl"), poll_minutes: int = 20,
                 hours_before: float = 10.0, pricer: bool = True,
                 overwrite: bool = False) -> Path:
    """Write (once) a sample DuckDB store of pre-game snapshots and results; return its path."""
    from propsage.bus import EventBus
    from propsage.ingest import Ingestor
    from propsage.pricing.pricer import make_pricer

    path = Path(path)
    if path.exists() and not overwrite:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    for p in (path, Path(f"{path}.wal")):
        p.unlink(missing_ok=True)
    start = SAMPLE_ANCHOR - pd.Timedelta(hours=hours_before)
    provider = _ClockedMock(leagues, n_games=n_games, seed=seed, now=SAMPLE_ANCHOR,
                            clock=start, steam_rate=0.05)
    last_start = max(pd.Timestamp(g.game.start_time) for g in provider._games.values())  # noqa: SLF001
    with Store(path) as store:
        # Past games first, so the pricer's priors (games before each poll's date) exist.
        store.write_results(simulated_history(provider, seed=seed))
        ing = Ingestor(provider, store, EventBus(), max_games=n_games,
                       pricer=make_pricer(store) if pricer else None, workers=1)
        while provider.now() < last_start:
            ing.poll("pregame")
            provider.advance(pd.Timedelta(minutes=poll_minutes))
        provider.get_games()          # final statuses
        store.upsert_games(provider.get_games(), provider.now())
        store.write_results(simulated_results(provider, seed))
    return path


def sample_db(path: str | Path | None = None) -> Path:
    """The sample store: ``path``, else $PROPSAGE_SAMPLE_DB, else data/sample.duckdb (built once)."""
    return build_sample(Path(path or os.environ.get("PROPSAGE_SAMPLE_DB") or DEFAULT_SAMPLE))
