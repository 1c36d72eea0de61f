"""Hunt bad quotes in the real NBA player_threes props with the analytics outlier guard.

    .venv/bin/python scripts/find_bad_quotes_nba.py

Reads ../shared/data/odds-api-nba-props/player_threes_2024_25/*.csv.gz (no licence stated:
read in place, never copied). Each game day's board is screened (propsage.analytics.screen,
line-aware consensus with the default NormalApprox); per book and day it counts quotes flagged
``off_line`` / ``neighbour_line`` and reports every stretch of consecutive game days in which
one book had more than ``--share`` of its quotes flagged.
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from propsage.analytics import screen
from propsage.domain import as_offer_frame, normalize_player_id
from propsage.paths import shared_data

BAD = ("off_line", "neighbour_line")


def load(folder) -> pd.DataFrame:  # noqa: ANN001 - a Path
    """All game days as one offer frame (game ids carry the day)."""
    parts = []
    for f in sorted(folder.glob("props_*_player_threes.csv.gz")):
        d = pd.read_csv(f)
        day = f.name.split("_")[1]
        parts.append(pd.DataFrame({
            "game_id": day + "|" + d["game"], "league": "nba", "player_name": d["player"],
            "player_id": d["player"].map(normalize_player_id), "market": d["market"],
            "book": d["bookmaker"], "line": d["line"], "over_price": d["over_odds"],
            "under_price": d["under_odds"], "fetched_at": pd.Timestamp(f"{day}T15:00Z"),
            "day": day}))
    return pd.concat(parts, ignore_index=True)


def stretches(share: pd.DataFrame, threshold: float, gap: int = 2) -> list[dict]:
    """Runs of game days with a book's flagged share above ``threshold`` (a run survives up to
    ``gap`` consecutive game days below it), at least 3 days above."""
    out = []
    for book in share.columns:
        s = share[book].dropna()
        above: list[str] = []
        below = 0
        for day, v in s.items():
            if v > threshold:
                above.append(day)
                below = 0
            elif above:
                below += 1
                if below > gap:
                    if len(above) >= 3:
                        out.append({"book": book, "first": above[0], "last": above[-1],
                                    "days": len(above)})
                    above, below = [], 0
        if len(above) >= 3:
            out.append({"book": book, "first": above[0], "last": above[-1], "days": len(above)})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--share", type=float, default=0.3,
                    help="flagged share of a book's quotes that marks a bad day (default 0.3)")
    ap.add_argument("--gap", type=int, default=2,
                    help="game days below the share a stretch may span (default 2)")
    args = ap.parse_args(argv)
    root = shared_data()
    folder = root / "odds-api-nba-props" / "player_threes_2024_25" if root else None
    if folder is None or not folder.is_dir():
        print("shared data absent (../shared/data/odds-api-nba-props): nothing to hunt")
        return 0
    raw = load(folder)
    days = raw["day"].to_numpy()
    q = screen(as_offer_frame(raw.drop(columns="day"))).quotes
    q["day"] = days  # screen keeps row order of an all-active board
    q["bad"] = q["reason"].isin(BAD)
    share = q.groupby(["day", "book"])["bad"].mean().unstack()
    print(f"quotes {len(q):,}, game days {q['day'].nunique()}, books {q['book'].nunique()}; "
          f"flagged {int(q['bad'].sum()):,} ({q['bad'].mean():.1%})")
    print("flagged by book:", q[q["bad"]]["book"].value_counts().to_dict())
    for st in stretches(share, args.share, args.gap):
        inside = q[(q["book"] == st["book"]) & (q["day"] >= st["first"])
                   & (q["day"] <= st["last"])]
        outside = q[(q["book"] == st["book"]) & ((q["day"] < st["first"])
                                                  | (q["day"] > st["last"]))]
        others = q[(q["book"] != st["book"]) & (q["day"] >= st["first"])
                   & (q["day"] <= st["last"])]
        bad = inside[inside["bad"]]
        shift = (bad["likely_line"] - bad["line"]).value_counts(dropna=False).to_dict()
        n_days = int(((q["day"] >= st["first"]) & (q["day"] <= st["last"])).groupby(
            q["day"]).any().sum())
        print(f"\nSTRETCH {st['book']}: {st['first']} .. {st['last']}: {st['days']} of "
              f"{n_days} game days above {args.share:.0%} flagged")
        print(f"  {st['book']} quotes in stretch {len(inside):,}, flagged {len(bad):,} "
              f"({inside['bad'].mean():.1%}); outside the stretch {outside['bad'].mean():.1%}; "
              f"other books in the stretch {others['bad'].mean():.1%}")
        print(f"  median |no-vig gap| flagged {bad['prob_gap'].abs().median():.3f}; "
              f"fits a line this far away (likely_line - line): {shift}")
        all_days = share[st["book"]].dropna()
        below = all_days[(all_days.index >= st["first"]) & (all_days.index <= st["last"])
                         & (all_days <= args.share)]
        if len(below):
            print(f"  days inside the span below the threshold: {below.round(2).to_dict()}")
        cols = ["day", "player_id", "line", "over_price", "under_price", "prob",
                "expected_prob", "likely_line", "reason"]
        print("  examples:\n" + bad[cols].head(5).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
