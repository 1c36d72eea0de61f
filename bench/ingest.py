"""One full 50-game poll cycle into a store that already holds 1 M, then 20 M snapshot rows.

Workload: 50 games x 900 quotes (45,000). The board is loaded once; each measured poll moves
~8 % of the quotes (prices, some lines), as a live slate does, and the store detects what
changed against its current quotes, appends those to odds_snapshots, upserts prop_offers and
records movements, in one transaction. History rows are bulk-generated in DuckDB first.

Baseline in the same run: the naive way, one ``INSERT ... ON CONFLICT`` per quote (2,000 rows
timed, extrapolated to 45,000).

Run: ``.venv/bin/python bench/ingest.py`` (``--sizes 1000000`` for a quick run).
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from propsage.domain import as_offer_frame
from propsage.store import Store

GAMES, PER_GAME = 50, 900


def make_board(rng: np.random.Generator, now: pd.Timestamp) -> pd.DataFrame:
    """50 games x 30 player-markets x 6 books x 5 lines = 45,000 quotes."""
    n_pm, books, lines = 30, 6, 5
    g = np.repeat(np.arange(GAMES), n_pm * books * lines)
    pm = np.tile(np.repeat(np.arange(n_pm), books * lines), GAMES)
    b = np.tile(np.repeat(np.arange(books), lines), GAMES * n_pm)
    k = np.tile(np.arange(lines), GAMES * n_pm * books)
    base = 20.5 + pm
    line = base + (k - 2)
    over = np.where(k < 2, -150 - 20 * (2 - k), np.where(k > 2, 110 + 20 * (k - 2), -110.0))
    under = np.where(k < 2, 120 + 20 * (2 - k), np.where(k > 2, -140 - 20 * (k - 2), -110.0))
    df = pd.DataFrame({
        "game_id": [f"g{i:03d}" for i in g], "league": "nfl",
        "player_name": [f"Player {i}-{j}" for i, j in zip(g, pm, strict=True)],
        "market": np.where(pm % 2 == 0, "player_rush_yds", "player_receptions"),
        "book": np.array(["draftkings", "fanduel", "betmgm", "williamhill_us", "espnbet",
                          "pinnacle"])[b],
        "line": line.astype(float), "over_price": over.astype(float),
        "under_price": under.astype(float), "is_live": True, "is_suspended": False,
        "book_last_update": now, "fetched_at": now,
    })
    return as_offer_frame(df)


def perturb(board: pd.DataFrame, rng: np.random.Generator, now: pd.Timestamp,
            share: float = 0.08) -> pd.DataFrame:
    """A next poll: ~share of quotes re-priced (a fifth of those at a new line)."""
    nxt = board.copy()
    hit = rng.random(len(nxt)) < share
    step = rng.choice([-5.0, 5.0], size=hit.sum())
    over = nxt.loc[hit, "over_price"].to_numpy() + step
    over = np.where((over > -100) & (over < 100), np.where(step > 0, 100.0, -105.0), over)
    nxt.loc[hit, "over_price"] = over
    nxt["book_last_update"] = now
    nxt["fetched_at"] = now
    return nxt


def fill_history(store: Store, rows: int) -> None:
    """Bulk-generate ``rows`` old snapshot rows (other games, older times)."""
    have = store.count("odds_snapshots")
    if rows <= have:
        return
    store.execute(f"""
        INSERT INTO odds_snapshots
        SELECT md5(CAST(i % 2000000 AS VARCHAR))[1:16], 'old' || CAST(i % 40000 AS VARCHAR), 'nfl',
               'p' || CAST(i % 900000 AS VARCHAR), 'player_rush_yds', 'draftkings',
               50.5 + (i % 7), -110 - (i % 13), -110 + (i % 11), FALSE, TRUE,
               0.5, NULL, NULL, NULL, NULL,
               TIMESTAMPTZ '2024-09-01 00:00:00+00' + INTERVAL (i // 1000) SECOND
        FROM range({have}, {rows}) t(i)""")
    store.execute("CHECKPOINT")


def timed_polls(store: Store, board: pd.DataFrame, rng: np.random.Generator,
                t0: pd.Timestamp, polls: int = 9) -> tuple[float, int]:
    """Median seconds of ``polls`` poll cycles; also the snapshot rows they added."""
    times, added = [], 0
    cur = board
    for i in range(polls):
        now = t0 + pd.Timedelta(seconds=5 * (i + 1))
        cur = perturb(cur, rng, now)
        start = time.perf_counter()
        changes = store.apply_offers(cur, now=now)
        times.append(time.perf_counter() - start)
        added += changes.n_snapshots
    return float(np.median(times)), added


def naive_baseline(path: Path, board: pd.DataFrame, n: int = 2000) -> float:
    """Seconds per row of a row-at-a-time INSERT ... ON CONFLICT upsert + snapshot insert."""
    store = Store(path)
    con = store._con  # the naive way talks to the connection directly, row by row
    rows = board.head(n)
    start = time.perf_counter()
    for r in rows.itertuples():
        con.execute(
            "INSERT INTO prop_offers (id, game_id, player_id, market, book, line_numeric, "
            "over_price, under_price, fetched_at, last_updated, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
            "over_price = excluded.over_price, under_price = excluded.under_price, "
            "line_numeric = excluded.line_numeric, last_updated = excluded.last_updated",
            [r.offer_id, r.game_id, r.player_id, r.market, r.book, r.line, r.over_price,
             r.under_price, r.fetched_at, r.fetched_at, r.fetched_at])
        con.execute(
            "INSERT INTO odds_snapshots (prop_offer_id, game_id, player_id, market, book, "
            "line_numeric, over_price, under_price, is_suspended, is_active, fetched_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, FALSE, TRUE, ?)",
            [r.offer_id, r.game_id, r.player_id, r.market, r.book, r.line, r.over_price,
             r.under_price, r.fetched_at])
    per_row = (time.perf_counter() - start) / n
    store.close()
    return per_row


def main() -> None:
    """Run the benchmark and print one JSON line last."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000000,20000000")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = np.random.default_rng(42)
    t0 = pd.Timestamp("2025-11-23T18:00:00Z")
    board = make_board(rng, t0)
    out: dict[str, object] = {"quotes_per_poll": len(board), "games": GAMES,
                              "machine": f"{platform.machine()} {platform.python_version()}"}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        worst = 0.0
        for size in sizes:
            store = Store(path)
            fill_history(store, size)
            store.apply_offers(board, now=t0)  # the board as it stood before the slate
            secs, added = timed_polls(store, board, rng, t0 + pd.Timedelta(minutes=size // 10**6))
            rows = store.count("odds_snapshots")
            store.close()
            print(f"history {rows:>11,} rows: poll cycle {secs * 1000:7.1f} ms "
                  f"({added / 9:,.0f} changed quotes/poll)")
            out[f"poll_seconds_{size // 10**6}M"] = round(secs, 4)
            worst = max(worst, secs)
        per_row = naive_baseline(Path(tmp) / "naive.duckdb", board)
    naive = per_row * len(board)
    print(f"naive row-at-a-time: {per_row * 1000:.2f} ms/row -> {naive:.1f} s per 45,000-quote poll")
    out.update(seconds=round(worst, 4), naive_seconds=round(naive, 2),
               naive_ms_per_row=round(per_row * 1000, 3), ratio=round(naive / worst, 1))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
