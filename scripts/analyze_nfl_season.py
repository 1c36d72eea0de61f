"""Market analytics over the real 2025-26 NFL line changes; prints the numbers in docs/analytics.md.

    .venv/bin/python scripts/analyze_nfl_season.py            # markdown report on stdout
    .venv/bin/python scripts/analyze_nfl_season.py --json     # the same figures as JSON

Reads ../shared/data/odds-api-nfl/nfl_line_changes.csv.gz (github.com/kevbowl/odds-fetcher, MIT;
location from PROPSAGE_SHARED_DATA). Exits 0 with a note when the folder is absent.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import pandas as pd

from propsage.analytics import (
    arbitrage_windows,
    detect_steam,
    lead_lag_table,
    line_movements,
    snapshots_from_line_changes,
)
from propsage.analytics.history import read_line_changes
from propsage.paths import shared_data

STEAM_K, STEAM_WINDOW = 3, "15min"
LIVE_MAX_AGE = "2min"      # in-play quotes older than this are not taken as offered
PRE_MAX_AGE = "12h"


def q(series: pd.Series, ps: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 0.9)) -> dict:
    return {f"p{int(p * 100)}": round(float(series.quantile(p)), 1) for p in ps} \
        if len(series) else {}


def analyse(path: str) -> dict:
    out: dict = {}
    t0 = time.perf_counter()
    raw = read_line_changes(path)
    snaps = snapshots_from_line_changes(raw)
    moves = line_movements(snaps)
    out["data"] = {"line_change_rows": len(raw), "snapshots": len(snaps),
                   "games": int(snaps["game_id"].nunique()), "books": int(snaps["book"].nunique()),
                   "from": str(snaps["fetched_at"].min()), "to": str(snaps["fetched_at"].max())}
    sig = moves[moves["significant"]]
    out["movements"] = {
        "all": len(moves), "significant": len(sig),
        "line_moves": int((moves["kind"] == "line").sum()),
        "price_moves": int((moves["kind"] == "price").sum()),
        "significant_pregame": int((~sig["is_live"]).sum()),
        "significant_in_play": int(sig["is_live"].sum()),
    }
    steam = detect_steam(moves, k=STEAM_K, window=STEAM_WINDOW)
    out["steam"] = {
        "k": STEAM_K, "window": STEAM_WINDOW, "total": len(steam),
        "pregame": int((~steam["is_live"]).sum()), "in_play": int(steam["is_live"].sum()),
        "by_market_pregame": steam[~steam["is_live"]]["market"].value_counts().to_dict(),
        "detection_delay_s_pregame": q(steam[~steam["is_live"]]["detection_delay_s"]),
        "books_per_steam_pregame": q(steam[~steam["is_live"]]["n_books"].astype(float)),
        "first_book_pregame": steam[~steam["is_live"]]["first_book"].str.split(",")
        .explode().value_counts().head(5).to_dict(),
    }
    table = lead_lag_table(moves, k=2, window=STEAM_WINDOW, live=False)
    leaders = {}
    for market, rows in table.groupby("market"):
        top = rows[rows["n_runs"] >= 50].sort_values("lead_rate", ascending=False).head(3)
        leaders[market] = [
            {"book": r.book, "runs": int(r.n_runs), "lead_rate": round(r.lead_rate, 3),
             "chance": round(r.chance_rate, 3), "lift": round(r.lift, 2),
             "median_lead_min": round(r.median_lead_min, 2)} for r in top.itertuples()]
        last = rows[rows["n_runs"] >= 50].sort_values("lead_rate").head(1)
        leaders[market + "_last"] = [
            {"book": r.book, "lead_rate": round(r.lead_rate, 3), "chance": round(r.chance_rate, 3),
             "median_lag_min": round(r.median_lag_min, 2)} for r in last.itertuples()]
    out["lead_lag_pregame"] = leaders
    out["lead_lag_table"] = table.round(3).to_dict("records")
    windows = arbitrage_windows(snaps, max_age=PRE_MAX_AGE, max_age_live=LIVE_MAX_AGE)
    out["seconds_all_above"] = round(time.perf_counter() - t0, 2)
    arbs = {}
    for label, w in (("pregame", windows[~windows["is_live"]]),
                     ("in_play", windows[windows["is_live"]])):
        arbs[label] = {
            "windows": len(w), "games_with_one": int(w["game_id"].nunique()),
            "by_market": w["market"].value_counts().to_dict(),
            "duration_s": q(w["duration_s"]), "max_return_pct": q(w["max_return_pct"]),
            "share_leg_set_30min_apart": round(float((w["leg_lag_s"] > 1800).mean()), 3)
            if len(w) else None,
            "top_book_pairs": (w["over_book"] + "/" + w["under_book"]).value_counts().head(5)
            .to_dict(),
        }
    arbs["settings"] = {"max_age": PRE_MAX_AGE, "max_age_live": LIVE_MAX_AGE}
    # What each guard removes: the same search with one guard off.
    ablation = {
        "all_guards": len(windows),
        "no_age_limits": len(arbitrage_windows(snaps, max_age=None, max_age_live=None)),
        "no_off_line_check": len(arbitrage_windows(snaps, max_age=PRE_MAX_AGE,
                                                   max_age_live=LIVE_MAX_AGE, prob_tol=9.0)),
    }
    long = arbitrage_windows(snaps, max_age=None, max_age_live=None)
    ablation["no_age_limits_longer_than_1_day"] = int((long["duration_s"] > 86400).sum())
    arbs["ablation"] = ablation
    out["arbitrage"] = arbs
    return out


def markdown(r: dict) -> str:
    d, m, s, a = r["data"], r["movements"], r["steam"], r["arbitrage"]
    lines = [
        f"- Data: {d['line_change_rows']:,} outcome-level line changes -> {d['snapshots']:,} "
        f"offer snapshots, {d['games']} games, {d['books']} books, {d['from']} .. {d['to']}.",
        f"- Movements: {m['all']:,} main-line/price moves ({m['line_moves']:,} line, "
        f"{m['price_moves']:,} price); {m['significant']:,} significant "
        f"({m['significant_pregame']:,} pre-game, {m['significant_in_play']:,} in-play).",
        f"- Steam (k={s['k']}, window {s['window']}): {s['total']:,} "
        f"({s['pregame']:,} pre-game, {s['in_play']:,} in-play); pre-game by market "
        f"{s['by_market_pregame']}; detection delay pre-game {s['detection_delay_s_pregame']} s; "
        f"books per steam {s['books_per_steam_pregame']}; most frequent first movers "
        f"{s['first_book_pregame']}.",
        "", "| market | leads most (lead rate / chance, median lead) | leads least |",
        "|---|---|---|",
    ]
    for market in ("h2h", "spreads", "totals"):
        top = r["lead_lag_pregame"].get(market, [])
        last = r["lead_lag_pregame"].get(market + "_last", [])
        cell = "; ".join(f"{x['book']} {x['lead_rate']:.0%} / {x['chance']:.0%}, "
                         f"{x['median_lead_min']:.1f} min" for x in top)
        low = "; ".join(f"{x['book']} {x['lead_rate']:.0%} / {x['chance']:.0%}, lags "
                        f"{x['median_lag_min']:.1f} min" for x in last)
        lines.append(f"| {market} | {cell} | {low} |")
    lines.append("")
    for label in ("pregame", "in_play"):
        x = a[label]
        lines.append(
            f"- Arbitrage windows {label}: {x['windows']:,} in {x['games_with_one']} games "
            f"{x['by_market']}; duration s {x['duration_s']}; max return % "
            f"{x['max_return_pct']}; legs set > 30 min apart: {x['share_leg_set_30min_apart']};"
            f" top over/under book pairs {x['top_book_pairs']}.")
    lines.append(f"- Guard ablation (window counts): {a['ablation']}.")
    lines.append(f"- Wall time for load + convert + movements + steam + lead-lag + windows: "
                 f"{r['seconds_all_above']} s.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print JSON instead of markdown")
    args = ap.parse_args(argv)
    root = shared_data()
    path = root / "odds-api-nfl" / "nfl_line_changes.csv.gz" if root else None
    if path is None or not path.exists():
        print("shared data absent (../shared/data/odds-api-nfl): nothing to analyse")
        return 0
    np.seterr(all="ignore")
    report = analyse(str(path))
    print(json.dumps(report, indent=1, default=str) if args.json else markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
