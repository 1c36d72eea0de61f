"""Benchmark: price a 50-game board (45,000 offers, 7,500 player-markets) in one call.

Board: 25 NBA games x 30 players x (points, rebounds, assists, threes, PRA) and 25 NFL games x
(2 QBs x 5, 6 RBs x 6 incl. rush + receiving yards, 26 WR/TEs x 4) = 150 player-markets a
game, each quoted by 6 books (some books a point off the main line, all two-sided), every
player with 25 games of synthetic history (priors built once, outside the timing, as ingest
would load them hourly). 10,000 simulations for each simulated (combo) player-market.

Baseline, in the same run: the seed's way, one prop at a time, 10,000 scalar Box-Muller normal
draws in plain Python, sorted for the median, counted for P(over); timed on a sample of props
and extrapolated to the board.

Usage: python bench/pricing.py [--repeat 5] [--baseline-sample 20]
The last line is JSON: seconds (median warm wall time of price_offers), first_call_seconds,
ratio (baseline / ours), baseline_seconds (extrapolated), peak_memory_mb (tracemalloc peak of
one pricing call), rss_peak_mb (process), max_mc_se_pp, offers, player_markets, simulated.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import resource
import statistics
import sys
import time
import tracemalloc

import numpy as np
import pandas as pd

from propsage.domain import as_offer_frame
from propsage.pricing import price_offers, priors_from_results

BOOKS = ("draftkings", "fanduel", "betmgm", "williamhill_us", "espnbet", "bovada")
NBA = ("player_points", "player_rebounds", "player_assists", "player_threes",
       "player_points_rebounds_assists")
NFL_ROLES = (
    ("QB", 2, ("player_pass_yds", "player_pass_tds", "player_pass_completions",
               "player_rush_yds", "player_pass_interceptions")),
    ("RB", 6, ("player_rush_yds", "player_rush_attempts", "player_receptions",
               "player_reception_yds", "player_rush_reception_yds", "player_anytime_td")),
    ("WR", 26, ("player_receptions", "player_reception_yds", "player_anytime_td",
                "player_reception_tds")),
)
# True means by market (range), used for history and for the books' lines.
MEANS = {
    "player_points": (8, 30), "player_rebounds": (2, 12), "player_assists": (1, 9),
    "player_threes": (0.5, 4), "player_pass_yds": (170, 300), "player_pass_tds": (0.8, 2.4),
    "player_pass_completions": (16, 27), "player_rush_yds": (15, 90),
    "player_pass_interceptions": (0.4, 1.2), "player_rush_attempts": (5, 20),
    "player_receptions": (1.5, 7.5), "player_reception_yds": (12, 95),
    "player_anytime_td": (0.1, 0.6), "player_reception_tds": (0.1, 0.6),
}
R = {"player_points": 8, "player_rebounds": 19, "player_assists": 14, "player_threes": 12,
     "player_pass_tds": 20, "player_pass_completions": 30, "player_rush_attempts": 8,
     "player_receptions": 15}
GAMMA_K = {"player_pass_yds": 8.0, "player_rush_yds": 1.8, "player_reception_yds": 1.9}
COMBO = {"player_points_rebounds_assists": ("player_points", "player_rebounds",
                                            "player_assists"),
         "player_rush_reception_yds": ("player_rush_yds", "player_reception_yds")}


def _draw(rng: np.random.Generator, market: str, mu: float, size: int) -> np.ndarray:
    if market in GAMMA_K:
        k = GAMMA_K[market]
        return np.round(rng.gamma(k, mu / k, size))
    if market == "player_anytime_td":
        return (rng.random(size) < mu).astype(float)
    if market in R:
        r = R[market]
        return rng.negative_binomial(r, r / (r + mu), size).astype(float)
    return rng.poisson(mu, size).astype(float)


def build(seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(offers, results) of the benchmark board."""
    rng = np.random.default_rng(seed)
    offers, results = [], []
    start = pd.Timestamp("2025-01-01")
    for g in range(50):
        league = "nba" if g < 25 else "nfl"
        gid = f"{league}-game-{g:02d}"
        if league == "nba":
            roster = [("G", NBA)] * 30
        else:
            roster = [(pos, mk) for pos, count, mk in NFL_ROLES for _ in range(count)]
        for j, (pos, markets) in enumerate(roster):
            name = f"Player {g:02d}-{j:02d}"
            pid = f"player-{g:02d}-{j:02d}"
            star = rng.beta(2, 3)
            true = {m: lo + (hi - lo) * star for m, (lo, hi) in MEANS.items()}
            for m in markets:
                for c in COMBO.get(m, (m,)):
                    for i, v in enumerate(_draw(rng, c, true[c], 25)):
                        results.append((f"{gid}-h{i}", league, start + pd.Timedelta(days=i),
                                        pid, name, pos, c, float(v)))
                mu = sum(true[c] for c in COMBO.get(m, (m,)))
                sd = math.sqrt(mu + mu * mu / 10) if m not in GAMMA_K else mu / 1.6
                if m == "player_anytime_td":
                    p = min(0.9, mu)
                    for b in BOOKS:
                        hold = rng.uniform(0.04, 0.08)
                        offers.append((gid, league, name, m, b, np.nan,
                                       _american(p * (1 + hold / 2)),
                                       _american((1 - p) * (1 + hold / 2))))
                    continue
                for b in BOOKS:
                    view = mu + rng.normal(0, 0.05 * sd)
                    line = math.floor(view + rng.choice([-1, 0, 0, 0, 1])) + 0.5
                    z = (view - line) / max(sd, 0.5)
                    p = 0.5 * math.erfc(-z / math.sqrt(2))
                    hold = rng.uniform(0.04, 0.08)
                    offers.append((gid, league, name, m, b, max(line, 0.5),
                                   _american(p * (1 + hold / 2)),
                                   _american((1 - p) * (1 + hold / 2))))
    off = as_offer_frame(pd.DataFrame(offers, columns=[
        "game_id", "league", "player_name", "market", "book", "line", "over_price",
        "under_price"]).assign(fetched_at=pd.Timestamp("2025-02-01", tz="UTC")))
    res = pd.DataFrame(results, columns=["game_id", "league", "game_date", "player_id",
                                         "player_name", "position", "market", "value"])
    return off, res


def _american(p: float) -> float:
    p = min(max(p, 0.02), 0.98)
    a = -100 * p / (1 - p) if p >= 0.5 else 100 * (1 - p) / p
    a = round(a / 5) * 5
    return a if abs(a) >= 100 else (100.0 if a >= 0 else -100.0)


def seed_way(line: float, mean: float, sd: float, n: int = 10_000) -> tuple[float, float]:
    """The seed's Monte Carlo for one prop: scalar Box-Muller draws in plain Python."""
    draws = []
    for _ in range(n):
        u1 = random.random() or 1e-12
        u2 = random.random()
        draws.append(mean + sd * math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2))
    draws.sort()
    fair_line = draws[n // 2]
    p_over = sum(1 for x in draws if x > line) / n
    return fair_line, p_over


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--baseline-sample", type=int, default=20)
    args = ap.parse_args(argv)
    offers, results = build()
    priors = priors_from_results(results)
    n_pm = offers.groupby(["game_id", "player_id", "market"]).ngroups
    print(f"board: {len(offers):,} offers, {n_pm:,} player-markets, "
          f"{len(priors):,} priors from {len(results):,} results")

    t0 = time.perf_counter()
    priced = price_offers(offers, priors)
    first = time.perf_counter() - t0
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        priced = price_offers(offers, priors)
        times.append(time.perf_counter() - t0)
    ours = statistics.median(times)
    tracemalloc.start()
    price_offers(offers, priors)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    simulated = int((priced["model"] == "mc_copula").sum())
    max_se = float(priced["mc_se"].max()) * 100
    print(f"ours: first call {first:.3f} s, warm median {ours:.3f} s over {args.repeat} "
          f"(min {min(times):.3f}); peak traced memory {peak:.0f} MB; "
          f"{simulated:,} offers simulated, max MC s.e. {max_se:.3f} pp")

    random.seed(0)
    sample = priced.sample(args.baseline_sample, random_state=0)
    t0 = time.perf_counter()
    for line, mean in zip(sample["line"].fillna(0.5), sample["fair_mean"], strict=True):
        seed_way(float(line), float(mean), max(1.0, math.sqrt(abs(float(mean)))))
    per_prop = (time.perf_counter() - t0) / len(sample)
    baseline = per_prop * len(offers)
    print(f"seed's way: {per_prop * 1e3:.1f} ms per prop -> {baseline:.0f} s for the board "
          f"(extrapolated from {len(sample)} props)")
    out = {
        "seconds": round(ours, 4), "first_call_seconds": round(first, 4),
        "ratio": round(baseline / ours, 1), "baseline_seconds": round(baseline, 1),
        "peak_memory_mb": round(peak, 1),
        "rss_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "max_mc_se_pp": round(max_se, 3), "offers": len(offers), "player_markets": n_pm,
        "simulated_offers": simulated, "n_sims": 10_000,
    }
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
