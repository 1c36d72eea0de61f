"""Replay rate: the real NFL week-12 capture file (428 Odds API responses) into an empty store.

Workload: ``ReplayProvider`` with a held clock steps through every capture time; each step
parses the featured ``/odds`` response (29 games x 11 books x 3 markets at most), and the store
detects the changed quotes, appends their snapshots, upserts offers and records movements in
one transaction (``propsage.providers.replay.replay_into``), into a DuckDB file in a temp dir.
Also timed on their own: reading the file, and parsing every capture without storing.

Run: ``.venv/bin/python bench/replay.py`` (skips when ../shared/data is absent).
"""

from __future__ import annotations

import json
import platform
import tempfile
import time
from pathlib import Path

from propsage.paths import shared_data
from propsage.providers.parse import parse_odds
from propsage.providers.replay import CaptureLog, ReplayProvider, replay_into
from propsage.store import Store


def main() -> None:
    """Print the figures; the last line is one JSON object."""
    data = shared_data()
    path = data / "odds-api-nfl" / "nfl_odds_snapshots_2025wk12.jsonl.gz" if data else None
    if path is None or not path.exists():
        print(json.dumps({"skipped": "../shared/data/odds-api-nfl is absent", "seconds": None}))
        return
    t0 = time.perf_counter()
    log = CaptureLog.load(path)
    load_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    parsed_quotes = sum(len(parse_odds(c.payload(), c.time).offers) for c in log.captures)
    parse_s = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.duckdb")
        t0 = time.perf_counter()
        stats = replay_into(store, ReplayProvider(log, speed=None))
        ingest_s = time.perf_counter() - t0
        snapshots = store.count("odds_snapshots")
        store.close()
    print(f"file: {len(log.captures)} captures read in {load_s:.2f}s")
    print(f"parse only: {parsed_quotes:,} quotes in {parse_s:.2f}s = "
          f"{len(log.captures) / parse_s:,.0f} captures/s, {parsed_quotes / parse_s:,.0f} quotes/s")
    print(f"replay into DuckDB: {stats.captures} captures, {stats.quotes:,} quotes, "
          f"{snapshots:,} snapshots, {stats.movements:,} movements in {ingest_s:.2f}s = "
          f"{stats.captures / ingest_s:,.1f} captures/s, {stats.quotes / ingest_s:,.0f} quotes/s")
    print(json.dumps({
        "seconds": round(ingest_s, 3), "captures": stats.captures, "quotes": stats.quotes,
        "snapshots": snapshots, "movements": stats.movements,
        "captures_per_s": round(stats.captures / ingest_s, 2),
        "quotes_per_s": round(stats.quotes / ingest_s, 1),
        "parse_seconds": round(parse_s, 3), "parse_quotes_per_s": round(parsed_quotes / parse_s, 1),
        "load_seconds": round(load_s, 3), "python": platform.python_version(),
    }))


if __name__ == "__main__":
    main()
