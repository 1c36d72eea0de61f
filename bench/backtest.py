"""Benchmark: a point-in-time backtest over 10 million generated snapshot rows.

Generates (untimed) a store with ``--games`` NBA games x 50 player-markets x 5 books, each
offer re-quoted ``--snapshots`` times over the 24 h before its game (prices drift around a
per-player-market truth; each book has its own noise and hold; lines step by one now and
then), plus a result per player-market. Then times ``run_backtest`` (consensus model, three
decision times, one bet per player-market, CLV at the close, grading, staking) and the summary.

    python bench/backtest.py                      # 2,000 games x 20 snapshots = 10 M rows
    python bench/backtest.py --games 200          # quick look

Last line: JSON with "seconds" (backtest + summary wall time) and the figures.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from propsage.backtest import Strategy, run_backtest
from propsage.store import Store

MARKETS = ["player_points", "player_rebounds", "player_assists", "player_threes",
           "player_points_rebounds_assists"]
BOOKS = ["draftkings", "fanduel", "betmgm", "williamhill_us", "espnbet"]


def generate(path: Path, games: int, snapshots: int, pms: int = 50) -> int:
    """Write the synthetic store; return its snapshot rows."""
    with Store(path) as store:
        con = store._con   # noqa: SLF001 - bulk generation straight into the schema
        con.execute(f"""
            CREATE TEMP TABLE g AS
            SELECT i AS gi, 'g' || i AS game_id,
                   TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_minutes(i * 30) AS start_time
            FROM range({games}) t(i)""")
        con.execute("""
            INSERT INTO games_live (id, league, sport_key, status, start_time, home_team,
                                    away_team, last_updated)
            SELECT game_id, 'nba', 'basketball_nba', 'final', start_time, 'Home ' || gi,
                   'Away ' || gi, start_time FROM g""")
        markets = "[" + ", ".join(f"'{m}'" for m in MARKETS) + "]"
        books = "[" + ", ".join(f"'{b}'" for b in BOOKS) + "]"
        # Truth per player-market: mean and a line near it.
        con.execute(f"""
            CREATE TEMP TABLE pm AS
            SELECT gi, game_id, start_time, j,
                   'p' || gi || '-' || (j // 5) AS player_id,
                   {markets}[(j % 5) + 1] AS market,
                   CASE j % 5 WHEN 0 THEN 12 + 18 * random() WHEN 1 THEN 3 + 8 * random()
                        WHEN 2 THEN 2 + 7 * random() WHEN 3 THEN 0.8 + 3 * random()
                        ELSE 18 + 25 * random() END AS mu,
                   0.1 * (random() - 0.5) AS drift
            FROM g CROSS JOIN range({pms}) t(j)""")
        # Per player-market a drifting fair P(over); each book a fixed shade, its own noise
        # and hold; American prices rounded to 5 cents like books print them.
        con.execute(f"""
            INSERT INTO odds_snapshots
            WITH q AS (
                SELECT pm.*, b.book, b.bi, k,
                       pm.start_time - INTERVAL 24 HOUR
                         + to_seconds(CAST(k * 86400 / {snapshots} + 60 * random() AS BIGINT))
                         AS fetched_at,
                       floor(pm.mu) + 0.5 + CASE WHEN random() < 0.1 THEN 1 ELSE 0 END AS line,
                       least(0.9, greatest(0.1, 0.5 + pm.drift * k / {snapshots}
                             + 0.005 * (b.bi - 3) + 0.05 * (random() - 0.5))) AS p,
                       0.04 + 0.005 * b.bi AS hold
                FROM pm
                CROSS JOIN (SELECT unnest({books}) AS book,
                                   generate_subscripts({books}, 1) AS bi) b
                CROSS JOIN range({snapshots}) t(k)),
            priced AS (
                SELECT *, p * (1 + hold / 2) AS io, (1 - p) * (1 + hold / 2) AS iu FROM q)
            SELECT md5(game_id || player_id || market || book || line)[:16],
                   game_id, 'nba', player_id, market, book, line,
                   5 * round(CASE WHEN io >= 0.5 THEN -100 * io / (1 - io)
                                  ELSE 100 * (1 - io) / io END / 5),
                   5 * round(CASE WHEN iu >= 0.5 THEN -100 * iu / (1 - iu)
                                  ELSE 100 * (1 - iu) / iu END / 5),
                   FALSE, TRUE, NULL, NULL, NULL, NULL, fetched_at, fetched_at
            FROM priced ORDER BY fetched_at""")
        con.execute("""
            INSERT INTO results (game_id, league, game_date, player_id, market, value, source)
            SELECT game_id, 'nba', CAST(start_time AS DATE), player_id, market,
                   greatest(0, round(mu + sqrt(mu) * 1.3 * (random() + random() + random()
                                                          - 1.5) * 2)), 'bench'
            FROM pm""")
        return store.count("odds_snapshots")


def main() -> None:
    """Generate, run, print the JSON line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--games", type=int, default=2000)
    ap.add_argument("--snapshots", type=int, default=20)
    ap.add_argument("--db", type=Path, help="keep the generated store here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "bench.duckdb"
        t0 = time.perf_counter()
        if not path.exists():
            rows = generate(path, args.games, args.snapshots)
        else:
            with Store(path, read_only=True) as s:
                rows = s.count("odds_snapshots")
        gen = time.perf_counter() - t0
        strategy = Strategy(min_ev=0.02, decide_before=("6h", "2h", "30m"))
        t1 = time.perf_counter()
        result = run_backtest(path, strategy)
        summary = result.summary(reps=500)
        seconds = time.perf_counter() - t1
    print(f"{rows:,} snapshot rows ({gen:.1f} s to generate); {result.info['board_rows']:,} "
          f"board rows; {len(result.bets):,} bets; backtest + summary {seconds:.2f} s")
    print(json.dumps({
        "seconds": round(seconds, 3), "snapshot_rows": rows, "games": result.info["games"],
        "board_rows": result.info["board_rows"], "bets": len(result.bets),
        "rows_per_second": round(rows / seconds), "generate_seconds": round(gen, 2),
        "beat_close": summary["clv"]["line_aware"]["beat_close"],
    }))


if __name__ == "__main__":
    main()
