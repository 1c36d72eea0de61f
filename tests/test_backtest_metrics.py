"""P&L, staking, calibration, scores and walk-forward, checked against outside references."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from propsage.backtest.metrics import (
    calibration,
    forecast_scores,
    hit_rate,
    kelly_fraction,
    pnl,
    stake_bets,
    walk_forward,
)
from propsage.backtest.stats import (
    brier,
    clustered_mean,
    log_loss,
    paired_test,
    wilson_interval,
)
from propsage.backtest.strategy import Strategy

T0 = pd.Timestamp("2025-01-01T00:00:00Z")


@pytest.mark.parametrize(("k", "n", "lo", "hi"), [
    # Newcombe (1998), Stat. Med. 17:857, Table I, Wilson score intervals.
    (81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_interval_matches_newcombe(k, n, lo, hi):
    assert wilson_interval(k, n) == pytest.approx((lo, hi), abs=5e-5)


def test_paired_test_without_clusters_is_the_paired_t_statistic():
    rng = np.random.default_rng(3)
    a, b = rng.normal(0.7, 0.1, 50), rng.normal(0.69, 0.1, 50)
    assert paired_test(a, b)["z"] == pytest.approx(stats.ttest_rel(a, b).statistic, rel=1e-12)


def test_singleton_clusters_give_the_ordinary_standard_error():
    x = np.random.default_rng(4).normal(size=40)
    _, se = clustered_mean(x, np.arange(40))
    assert se == pytest.approx(stats.sem(x), rel=1e-12)


def test_log_loss_and_brier_closed_forms():
    assert log_loss([0.8], [1])[0] == pytest.approx(-math.log(0.8))
    assert log_loss([0.8], [0])[0] == pytest.approx(-math.log(0.2))
    assert brier([0.8], [0])[0] == pytest.approx(0.64)


def test_full_kelly_at_even_money_is_two_p_minus_one():
    # Kelly (1956): at even money the growth-optimal share is p - q.
    assert kelly_fraction(np.array([0.6]), np.array([2.0]))[0] == pytest.approx(0.2)
    assert kelly_fraction(np.array([0.4]), np.array([2.0]))[0] == 0.0


def bets_frame(outcomes: list[str], decimal: float = 2.0, p: float = 0.6,
               hours: list[float] | None = None, games: list[str] | None = None) -> pd.DataFrame:
    n = len(outcomes)
    hours = hours if hours is not None else list(range(n))
    start = [T0 + pd.Timedelta(hours=h) for h in hours]
    return pd.DataFrame({
        "game_id": games or [f"g{i}" for i in range(n)], "outcome": outcomes,
        "decimal": decimal, "p_model": p, "ev": p * decimal - 1,
        "won": [1.0 if o == "win" else 0.0 if o == "loss" else np.nan for o in outcomes],
        "start_time": start, "decided_at": [s - pd.Timedelta(hours=1) for s in start],
        "market": "player_points", "book": "fanduel"})


def test_flat_roi_is_profit_over_stake_and_its_bootstrap_ci_brackets_it():
    bets = stake_bets(bets_frame(["win", "loss", "win", "win", "loss", "push", "ungraded"] * 5),
                      Strategy(stake=2.0))
    out = pnl(bets, "flat", reps=500)
    # 15 wins at +1 unit x 2, 10 losses x 2, pushes return the stake; 30 bets graded.
    assert out["profit"] == pytest.approx(15 * 2.0 - 10 * 2.0)
    assert out["staked"] == pytest.approx(30 * 2.0)
    assert out["roi"] == pytest.approx(10 / 60)
    assert out["roi_ci"][0] < out["roi"] < out["roi_ci"][1]


def test_kelly_stakes_grow_only_once_earlier_bets_have_settled():
    s = Strategy(kelly_fraction=0.5, max_stake_fraction=1.0, bankroll=100.0)
    # Bet 2 is decided 1 h after bet 1's start: bet 1 has not settled (4 h) -> same bankroll.
    # Bet 3 comes 10 h later: bet 1 and 2 have settled.
    bets = stake_bets(bets_frame(["win", "win", "loss"], hours=[0, 2, 12]), s)
    f = 0.5 * 0.2
    assert bets["stake_kelly"].tolist()[:2] == pytest.approx([100 * f, 100 * f])
    assert bets["stake_kelly"].iloc[2] == pytest.approx((100 + 2 * 100 * f) * f)
    assert bets["profit_kelly"].sum() == pytest.approx(2 * 100 * f - 120 * f)


def test_hit_rate_excludes_pushes_and_compares_with_the_break_even_rate():
    out = hit_rate(bets_frame(["win", "loss", "loss", "push"], decimal=1.8))
    assert out["decided"] == 3 and out["pushes"] == 1
    assert out["hit_rate"] == pytest.approx(1 / 3)
    assert out["break_even"] == pytest.approx(1 / 1.8)


def test_calibration_bins_report_mean_forecast_and_observed_rate():
    p = np.array([0.12, 0.18, 0.15, 0.71, 0.74])
    y = np.array([0, 0, 1, 1, 1])
    table = calibration(p, y, bins=10).set_index("bin_low")
    assert table.loc[0.1, "n"] == 3 and table.loc[0.1, "observed"] == pytest.approx(1 / 3)
    assert table.loc[0.1, "p_mean"] == pytest.approx(0.15)
    assert table.loc[0.7, "observed"] == 1.0


def test_forecast_scores_compare_model_and_market_on_the_same_items():
    f = pd.DataFrame({"game_id": ["a", "b", "c", "d"], "won": [1.0, 0.0, 1.0, 0.0],
                      "p_model": [0.8, 0.2, 0.8, 0.2], "p_market": 0.5})
    s = forecast_scores(f)
    assert s["log_loss_model"] == pytest.approx(-math.log(0.8))
    assert s["log_loss_market"] == pytest.approx(math.log(2))
    assert s["log_loss_diff"]["mean_diff"] == pytest.approx(-math.log(0.8) - math.log(2))


def test_walk_forward_picks_each_folds_threshold_from_earlier_folds_only():
    # Early bets: high-EV ones win, low-EV ones lose -> the threshold learnt is the high one.
    rows = []
    for i in range(60):
        high = i % 2 == 0
        rows.append(("win" if high else "loss", 0.12 if high else 0.02))
    b = bets_frame([o for o, _ in rows])
    b["ev"] = [e for _, e in rows]
    b = stake_bets(b, Strategy())
    wf = walk_forward(b, n_splits=2, grid=(0.0, 0.1), floor=0.0)
    assert wf["min_ev"].tolist() == [0.1, 0.1]
    assert (wf["roi"] == 1.0).all()
