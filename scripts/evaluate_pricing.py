"""Evaluate the pricing on real NBA player_threes props graded with real box scores.

Data (read-only, from ../shared/data; the script exits 0 with a message when it is absent):
- odds-api-nba-props/player_threes_2024_25/props_<day>_player_threes.csv.gz: one pre-game
  snapshot per game day (about 15:00 UTC), 2024-10-22 .. 2025-04-13;
- nba-stats/player_game_logs_2024_25.csv.gz: box scores (threes_made).

A quote is graded by joining normalised player name + the game's US (Eastern) date, taken from
its commence time (the box scores' date is the US date). Priors are point in time: for a prop on
US date D, only box scores dated before D. Predictions of P(over | no push) per two-sided quote:
- market: that book's own no-vig probability (multiplicative de-vig);
- consensus: the market-implied distribution averaged over all books (model weight 0);
- model: the prior alone (recency-weighted, shrunk negative binomial);
- blend: propsage.pricing's fair probability (model weight = max_model_weight x confidence).
max_model_weight is chosen on the first half of the season (before 2025-01-16) by log loss and
reported on the second half. Standard errors are clustered by player-game (the books' quotes
of one player-game share one outcome); comparisons are paired differences with clustered s.e.

Usage: python scripts/evaluate_pricing.py [--write docs/pricing.md]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from propsage.domain import as_offer_frame, normalize_player_id
from propsage.loaders import load_nba_box_scores
from propsage.paths import REPO, shared_data
from propsage.pricing import (
    ContextSettings,
    PricingSettings,
    price_board,
    priors_from_results,
    prob_over_under_push,
)

SPLIT = "2025-01-16"
WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)
START, END = "<!-- evaluation:start -->", "<!-- evaluation:end -->"


def load_props(folder: Path) -> pd.DataFrame:
    """All prop files with the file's day, the game's US date and the player id."""
    frames = []
    for f in sorted(folder.glob("props_*_player_threes.csv.gz")):
        day = re.search(r"props_(\d{4}-\d{2}-\d{2})_", f.name).group(1)
        frames.append(pd.read_csv(f).assign(file_day=day))
    d = pd.concat(frames, ignore_index=True)
    t = pd.to_datetime(d["game_time"], utc=True)
    d["us_date"] = t.dt.tz_convert("America/New_York").dt.strftime("%Y-%m-%d")
    d["pid"] = d["player"].astype(str).map(normalize_player_id)
    return d


def clustered(values: np.ndarray, clusters: np.ndarray) -> tuple[float, float]:
    """Mean and its cluster-robust standard error."""
    s = pd.Series(values).groupby(clusters).agg(["sum", "size"])
    n, g = len(values), len(s)
    mean = values.mean()
    resid = s["sum"].to_numpy() - s["size"].to_numpy() * mean
    se = np.sqrt(g / (g - 1) * np.sum(resid**2)) / n
    return float(mean), float(se)


def predictions(props: pd.DataFrame, results: pd.DataFrame, weights: tuple[float, ...]
                ) -> pd.DataFrame:
    """Per graded two-sided quote: market, consensus, model and blend P(over) for each weight."""
    out = []
    for day, g in props.groupby("us_date"):
        priors = priors_from_results(results, as_of=day)
        offers = as_offer_frame(pd.DataFrame({
            "game_id": g["game"].astype(str) + "|" + day, "league": "nba",
            "player_name": g["player"], "player_id": g["pid"], "market": "player_threes",
            "book": g["bookmaker"], "line": g["line"], "over_price": g["over_odds"],
            "under_price": g["under_odds"], "fetched_at": pd.Timestamp(day, tz="UTC"),
        }))
        res = g[["pid", "us_date", "line", "bookmaker", "value"]].reset_index(drop=True)
        for w in weights:
            s = PricingSettings(context=replace(ContextSettings(), max_model_weight=w))
            b = price_board(offers, priors, settings=s).offers
            cond = b["fair_over_prob"] / (b["fair_over_prob"] + b["fair_under_prob"])
            res[f"blend_{w:g}"] = cond.to_numpy()
            res["market"] = b["implied_prob"].to_numpy()
            res["confidence"] = b["confidence_score"].to_numpy()
        pr = priors.reindex(pd.MultiIndex.from_arrays([res["pid"],
                                                       np.full(len(res), "player_threes")]))
        o, u, _ = prob_over_under_push(
            {"family": np.where(pr["family"].isna(), "negbin", pr["family"].astype(object)),
             "mean": pr["mean"].to_numpy(float), "var": pr["var"].to_numpy(float),
             "zero_prob": pr["zero_prob"].fillna(0).to_numpy(float)}, res["line"].to_numpy())
        res["model"] = o / (o + u)
        res["n_games"] = pr["n"].to_numpy(float)
        out.append(res)
    return pd.concat(out, ignore_index=True)


def scores(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """Log loss and Brier (clustered s.e.) per column, and paired differences vs market."""
    y = df["over"].to_numpy(float)
    cl = (df["pid"] + "|" + df["us_date"]).to_numpy()
    rows = []
    base_ll = base_br = None
    for c in cols:
        p = np.clip(df[c].to_numpy(float), 1e-6, 1 - 1e-6)
        ll = -(y * np.log(p) + (1 - y) * np.log(1 - p))
        br = (p - y) ** 2
        if c == "market":
            base_ll, base_br = ll, br
        m_ll, se_ll = clustered(ll, cl)
        m_br, se_br = clustered(br, cl)
        d_ll, se_dll = clustered(ll - base_ll, cl)
        d_br, se_dbr = clustered(br - base_br, cl)
        rows.append({"prediction": c, "mean_p": float(p.mean()), "log_loss": m_ll, "ll_se": se_ll, "brier": m_br,
                     "brier_se": se_br, "d_ll_vs_market": d_ll, "d_ll_se": se_dll,
                     "d_brier_vs_market": d_br, "d_brier_se": se_dbr})
    return pd.DataFrame(rows)


def table(s: pd.DataFrame) -> str:
    """Markdown table of ``scores`` output."""
    lines = ["| prediction | mean P(over) | log loss (s.e.) | Brier (s.e.) | "
             "log loss - market (s.e.) | Brier - market (s.e.) |", "|---|---|---|---|---|---|"]
    for r in s.itertuples():
        lines.append(
            f"| {r.prediction} | {r.mean_p:.3f} | {r.log_loss:.4f} ({r.ll_se:.4f}) | {r.brier:.4f} "
            f"({r.brier_se:.4f}) | {r.d_ll_vs_market:+.5f} ({r.d_ll_se:.5f}) | "
            f"{r.d_brier_vs_market:+.5f} ({r.d_brier_se:.5f}) |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", type=Path, default=None,
                    help="replace the evaluation block of this markdown file")
    args = ap.parse_args(argv)
    root = shared_data()
    if root is None or not (root / "odds-api-nba-props" / "player_threes_2024_25").is_dir():
        print("shared data not found (set PROPSAGE_SHARED_DATA); nothing to evaluate")
        return 0
    t0 = time.perf_counter()
    props = load_props(root / "odds-api-nba-props" / "player_threes_2024_25")
    box = load_nba_box_scores(root / "nba-stats" / "player_game_logs_2024_25.csv.gz").results
    threes = box[box["market"] == "player_threes"]
    actual = threes.assign(us_date=threes["game_date"].dt.strftime("%Y-%m-%d"))[
        ["player_id", "us_date", "value"]].rename(columns={"player_id": "pid"})
    n_raw = len(props)
    same_day = float((props["file_day"] == props["us_date"]).mean())
    utc_day = pd.to_datetime(props["game_time"], utc=True).dt.strftime("%Y-%m-%d")
    utc_differs = float((utc_day != props["us_date"]).mean())
    two = props.dropna(subset=["over_odds", "under_odds"])
    graded = two.merge(actual, on=["pid", "us_date"], how="inner")
    by_file_day = two.merge(actual.rename(columns={"us_date": "file_day"}),
                            on=["pid", "file_day"], how="inner")
    push = graded["value"] == graded["line"]
    graded = graded[~push].copy()
    graded["over"] = (graded["value"] > graded["line"]).astype(float)

    pred = predictions(graded, threes, WEIGHTS)
    pred["over"] = (pred["value"] > pred["line"]).astype(float)
    have = pred.dropna(subset=["model", "market"])
    first, second = have[have["us_date"] < SPLIT], have[have["us_date"] >= SPLIT]
    tune = {w: scores(first, ["market", f"blend_{w:g}"]).iloc[1]["log_loss"] for w in WEIGHTS}
    best = min(tune, key=tune.get)
    cols = ["market", "blend_0", "model", f"blend_{best:g}"]
    names = {"blend_0": "consensus (weight 0)", f"blend_{best:g}": f"blend (weight {best:g})"}
    s2 = scores(second, cols).replace({"prediction": names})
    sall = scores(have, cols).replace({"prediction": names})
    default = ContextSettings().max_model_weight
    elapsed = time.perf_counter() - t0

    md = [START, "",
          f"Command: `python scripts/evaluate_pricing.py --write docs/pricing.md` "
          f"({elapsed:.0f} s on the 2-core machine). Data: {n_raw:,} player_threes quotes "
          f"({props['bookmaker'].nunique()} books, {props['us_date'].nunique()} US game days); "
          "the file's day equals the "
          f"game's US (Eastern) date for {same_day:.1%} of quotes, while the UTC date of the "
          f"commence time is a day later for {utc_differs:.1%} (evening games), so quotes are "
          f"dated by Eastern time; {len(graded) + int(push.sum()):,} two-sided quotes join a box score "
          f"by player + US date ({(len(graded) + int(push.sum())) / len(two):.1%}; by the file's "
          f"day: {len(by_file_day) / len(two):.1%}); {int(push.sum())} pushes on integer lines "
          f"dropped; {len(have):,} quotes ({have['pid'].nunique()} players, "
          f"{(have['pid'] + have['us_date']).nunique():,} player-games) have a point-in-time "
          "prior (at least one earlier game this season) and are scored.", "",
          "Model weight chosen on the first half (before " + SPLIT + ", "
          f"{len(first):,} quotes), log loss of the blend by max_model_weight: "
          + ", ".join(f"{w:g}: {v:.4f}" for w, v in tune.items())
          + f". Best: **{best:g}** (the code's default is {default:g}).", "",
          f"**Second half** ({SPLIT} .. 2025-04-13, {len(second):,} quotes, out of sample "
          f"for the weight; {second['over'].mean():.3f} of them went over):", "", table(s2), "",
          f"Whole season ({len(have):,} quotes, {have['over'].mean():.3f} over; the weight was "
          "tuned on the first half):", "",
          table(sall), "", END]
    text = "\n".join(md)
    print(text)
    if args.write:
        doc = args.write.read_text() if args.write.exists() else f"{START}\n{END}\n"
        if START not in doc:
            doc += f"\n{START}\n{END}\n"
        pre, rest = doc.split(START, 1)
        post = rest.split(END, 1)[1]
        args.write.write_text(pre + text + post)
        print(f"wrote {args.write.relative_to(REPO) if args.write.is_absolute() else args.write}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
