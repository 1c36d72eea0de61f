"""Benchmark the market analytics.

1. Live: ``AnalyticsEngine.update`` on a simulated 50-game board of 45,000 offers (18 players x
   5 markets x 5 books x 2 lines per game): 20 polls of 60 s in which books re-price ~3-4 %
   of quotes (true means drift, 5 player-markets jump per poll and books follow at their own
   pace, so steam happens), then 5 polls that hand the whole board over as changed (a full
   re-analysis). Target: <= 0.2 s per poll.
2. Real season: the 340,643 real NFL line changes of 2025-26 (../shared/data/odds-api-nfl):
   read, convert to snapshots, line movements, steam, lead-lag table, arbitrage windows.
   Target: <= 10 s. Skipped (reported as null) when the shared data folder is absent.

Last line: one JSON object; "seconds" is the median wall time of a full re-analysis of the
45,000-offer board on a warm engine (the 0.2 s budget); "poll_*" are the incremental polls,
"cold_first_poll_s" the very first call of a process (imports and caches warming up).
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import pandas as pd

from propsage.analytics import (
    AnalyticsEngine,
    NormalApprox,
    arbitrage_windows,
    detect_steam,
    lead_lag_table,
    line_movements,
    snapshots_from_line_changes,
)
from propsage.analytics.history import read_line_changes
from propsage.domain import as_offer_frame
from propsage.paths import shared_data

BOOKS = ["draftkings", "fanduel", "betmgm", "williamhill_us", "espnbet"]
MARKETS = {  # market: (typical line, spread of lines across players, step)
    "player_pass_yds": (240.0, 40.0, 5.0), "player_rush_yds": (55.0, 20.0, 5.0),
    "player_reception_yds": (50.0, 20.0, 5.0), "player_receptions": (4.5, 2.0, 1.0),
    "player_rush_attempts": (12.5, 4.0, 1.0),
}

def _sigma(pm: pd.DataFrame) -> np.ndarray:
    """The simulated outcome SD: the same per-market scale the analytics' fallback assumes."""
    return NormalApprox().sigma(pm["market"].to_numpy(object), np.full(len(pm), "nfl", object),
                                pm["mean"].to_numpy(float))


def _american(p: np.ndarray) -> np.ndarray:
    """American price of a (vigged) probability, rounded like books do."""
    p = np.clip(p, 0.02, 0.98)
    a = np.where(p >= 0.5, -100.0 * p / (1.0 - p), 100.0 * (1.0 - p) / p)
    return np.round(a)


class Market:
    """A deterministic simulated board: true means per player-market, books quoting around them."""

    def __init__(self, n_games: int = 50, players: int = 18, seed: int = 7):
        self.rng = np.random.default_rng(seed)
        rows = []
        for g in range(n_games):
            for p in range(players):
                for m, (base, spread, step) in MARKETS.items():
                    mean = max(base + spread * self.rng.standard_normal(), 0.4 * base)
                    rows.append((f"g{g:02d}", f"p{g:02d}_{p:02d}", m, mean, step))
        self.pm = pd.DataFrame(rows, columns=["game_id", "player_id", "market", "mean", "step"])
        self.hold = dict(zip(BOOKS, np.linspace(0.045, 0.075, len(BOOKS)), strict=True))
        self.shade = {b: self.rng.normal(0, 0.02, len(self.pm)) for b in BOOKS}
        # What each book currently prices from: it catches up with the true mean at its pace.
        self.seen = {b: self.pm["mean"].to_numpy(copy=True) for b in BOOKS}
        self.pace = dict(zip(BOOKS, (0.6, 0.5, 0.4, 0.3, 0.2), strict=True))

    def board(self, now: pd.Timestamp) -> pd.DataFrame:
        """The 45,000-offer board as the books quote it now."""
        pm = self.pm
        sigma = _sigma(pm)
        parts = []
        for b in BOOKS:
            mean = self.seen[b] + self.shade[b] * sigma
            step = pm["step"].to_numpy()
            main = np.floor(mean / step) * step + 0.5
            for off in (0.0, step):  # main line and one alternate above it
                line = main + off
                p = 1.0 - _ndtr((line - mean) / sigma)
                h = self.hold[b]
                parts.append(pd.DataFrame({
                    "game_id": pm["game_id"], "player_id": pm["player_id"],
                    "player_name": pm["player_id"], "league": "nfl", "market": pm["market"],
                    "book": b, "line": line, "over_price": _american(p * (1 + h)),
                    "under_price": _american((1 - p) * (1 + h)), "fetched_at": now,
                    "book_last_update": now,
                }))
        return pd.concat(parts, ignore_index=True)

    def step(self, n_steam: int = 5) -> None:
        """Move ~3 % of true means a little and 5 player-markets a lot (news: a steam); each
        book then catches up with the truth with its own probability per poll."""
        n = len(self.pm)
        idx = self.rng.choice(n, size=max(1, n // 30), replace=False)
        sigma = _sigma(self.pm)
        self.pm.loc[idx, "mean"] += 0.1 * sigma[idx] * self.rng.standard_normal(len(idx))
        steam = self.rng.choice(n, size=n_steam, replace=False)
        self.pm.loc[steam, "mean"] += 0.4 * sigma[steam]
        truth = self.pm["mean"].to_numpy()
        for b in BOOKS:
            catch = (self.rng.random(n) < self.pace[b]) & (self.seen[b] != truth)
            self.seen[b] = np.where(catch, truth, self.seen[b])


def _ndtr(x: np.ndarray) -> np.ndarray:
    from scipy.special import ndtr
    return ndtr(x)


def changed_rows(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``after`` that are new or differ from ``before`` (what ingest hands over)."""
    key = ["offer_id"]
    m = after.merge(before[[*key, "over_price", "under_price"]], on=key, how="left",
                    suffixes=("", "_b"))
    diff = (m["over_price"] != m["over_price_b"]) | (m["under_price"] != m["under_price_b"])
    return after[diff.to_numpy()]


def bench_live(n_polls: int = 20, n_full: int = 5) -> dict:
    """Engine polls on the simulated 50-game board: incremental polls (what changed), then
    full re-analyses (the whole board handed over as changed) on a warm engine."""
    mk = Market()
    now = pd.Timestamp("2025-11-23T15:00:00Z")
    board = as_offer_frame(mk.board(now))
    engine = AnalyticsEngine()
    t0 = time.perf_counter()
    first = engine.update(board, board, now)
    cold_s = time.perf_counter() - t0
    inc, full, cpu_full, n_changed, n_steam, n_moves = [], [], [], [], 0, 0
    for i in range(n_polls + n_full):
        now = now + pd.Timedelta("60s")
        mk.step()
        nxt = as_offer_frame(mk.board(now))
        ch = changed_rows(board, nxt)
        # Unchanged quotes keep the time the book last changed them.
        keep = ~nxt["offer_id"].isin(ch["offer_id"]).to_numpy()
        nxt.loc[keep, "book_last_update"] = board.set_index("offer_id")["book_last_update"] \
            .reindex(nxt.loc[keep, "offer_id"]).to_numpy()
        board = nxt
        whole = i >= n_polls
        t0, c0 = time.perf_counter(), time.process_time()
        res = engine.update(board, board if whole else ch, now)
        (full if whole else inc).append(time.perf_counter() - t0)
        if whole:
            cpu_full.append(time.process_time() - c0)
        else:
            n_changed.append(len(ch))
        n_steam += len(res.steam)
        n_moves += int(res.movements["significant"].sum()) if len(res.movements) else 0
    return {
        "offers": len(board), "games": int(board["game_id"].nunique()),
        "full_poll_median_s": round(float(np.median(full)), 4),
        "full_poll_max_s": round(float(np.max(full)), 4),
        "full_poll_cpu_median_s": round(float(np.median(cpu_full)), 4),
        "poll_median_s": round(float(np.median(inc)), 4),
        "poll_max_s": round(float(np.max(inc)), 4), "cold_first_poll_s": round(cold_s, 4),
        "changed_per_poll": int(np.median(n_changed)), "polls": n_polls, "full_polls": n_full,
        "steam_found": n_steam, "significant_moves": n_moves,
        "first_poll_consensus_groups": len(first.consensus),
    }


def bench_season() -> dict | None:
    """The real 2025-26 NFL line changes, end to end."""
    root = shared_data()
    path = root / "odds-api-nfl" / "nfl_line_changes.csv.gz" if root else None
    if path is None or not path.exists():
        return None
    t0 = time.perf_counter()
    raw = read_line_changes(str(path))
    snaps = snapshots_from_line_changes(raw)
    t1 = time.perf_counter()
    moves = line_movements(snaps)
    t2 = time.perf_counter()
    steam = detect_steam(moves, k=3, window="15min")
    table = lead_lag_table(moves, k=2, window="15min", live=False)
    t3 = time.perf_counter()
    windows = arbitrage_windows(snaps, max_age="12h", max_age_live="2min")
    t4 = time.perf_counter()
    return {
        "season_rows": len(raw), "season_snapshots": len(snaps), "season_s": round(t4 - t0, 3),
        "season_read_convert_s": round(t1 - t0, 3), "season_movements_s": round(t2 - t1, 3),
        "season_steam_leadlag_s": round(t3 - t2, 3), "season_arb_windows_s": round(t4 - t3, 3),
        "season_movements": len(moves), "season_steam": len(steam),
        "season_arb_windows": len(windows), "lead_lag_rows": len(table),
    }


def main() -> int:
    live = bench_live()
    print(f"live: {live}", file=sys.stderr)
    season = bench_season()
    print(f"season: {season}", file=sys.stderr)
    out = {"seconds": live["full_poll_median_s"], **live}
    if season is None:
        out["season_s"] = None
        out["season_skipped"] = "shared data folder absent"
    else:
        out.update(season)
    out["ok"] = bool(live["full_poll_median_s"] <= 0.2 and live["poll_max_s"] <= 0.2
                     and (season is None or season["season_s"] <= 10.0))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
