"""Priors: recency weights, shrinkage toward the group, point in time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from propsage.pricing import PriorSettings, priors_from_results


def _results(rows):
    return pd.DataFrame(rows, columns=["player_id", "market", "game_date", "value", "league",
                                       "position"]).assign(game_id=lambda d: d.index.astype(str))


def _history(player, values, market="player_points", start="2025-01-01", position="G"):
    days = pd.date_range(start, periods=len(values), freq="2D")
    return [(player, market, d, float(v), "nba", position) for d, v in zip(days, values,
                                                                         strict=True)]


def test_recency_weighted_mean_without_shrinkage():
    # two games, 10 and 20 (latest); half-life 1 game: weights 0.5, 1 -> (5 + 20) / 1.5
    res = _results(_history("a", [10, 20]))
    pr = priors_from_results(res, settings=PriorSettings(half_life=1.0, prior_games=0.0))
    row = pr.loc[("a", "player_points")]
    assert row["raw_mean"] == pytest.approx(25 / 1.5)
    assert row["n_eff"] == pytest.approx(1.5**2 / 1.25)
    assert row["n"] == 2


def test_small_samples_are_shrunk_toward_the_group_mean():
    rows = _history("a", [40]) + sum((_history(p, [10] * 30) for p in "bcdefghij"), [])
    pr = priors_from_results(_results(rows), settings=PriorSettings(prior_games=5.0,
                                                                    min_group_players=3))
    a = pr.loc[("a", "player_points")]
    b = pr.loc[("b", "player_points")]
    # players' means weighted by their effective games (a: 1 game; b..j: 30 games each)
    group = (a["n_eff"] * 40 + 9 * b["n_eff"] * 10) / (a["n_eff"] + 9 * b["n_eff"])
    assert a["n_eff"] == 1.0
    assert a["group_mean"] == pytest.approx(group)
    assert a["mean"] == pytest.approx((1 * 40 + 5 * group) / 6)
    assert abs(b["mean"] - 10) < abs(a["mean"] - 40)


def test_as_of_uses_only_games_before_that_date():
    res = _results(_history("a", [10, 20, 90], start="2025-01-01"))   # Jan 1, 3, 5
    pr = priors_from_results(res, as_of="2025-01-05", settings=PriorSettings(prior_games=0))
    assert pr.loc[("a", "player_points"), "n"] == 2
    late = pd.Timestamp("2025-01-05T23:00", tz="UTC")
    assert priors_from_results(res, as_of=late).loc[("a", "player_points"), "n"] == 2


def test_hurdle_markets_split_off_the_zero_games():
    vals = [0, 0, 50, 70, 0, 60, 80, 0]
    res = _results(_history("a", vals, market="player_rush_yds", position="RB"))
    pr = priors_from_results(res, settings=PriorSettings(half_life=1e9, prior_games=0.0))
    row = pr.loc[("a", "player_rush_yds")]
    assert row["zero_prob"] == pytest.approx(0.5)
    assert row["raw_mean"] == pytest.approx(65.0)
    assert row["family"] == "gamma"


def test_anytime_td_prior_is_a_rate():
    res = _results(_history("a", [1, 0, 0, 1], market="player_anytime_td", position="RB"))
    pr = priors_from_results(res, settings=PriorSettings(half_life=1e9, prior_games=0.0))
    row = pr.loc[("a", "player_anytime_td")]
    assert row["family"] == "bernoulli"
    assert row["mean"] == pytest.approx(0.5)


def test_predictive_variance_is_sample_variance_plus_the_means_uncertainty():
    values = np.random.default_rng(0).poisson(20, 40)
    res = _results(_history("a", values))
    pr = priors_from_results(res, settings=PriorSettings(half_life=1e9, prior_games=0.0))
    row = pr.loc[("a", "player_points")]
    assert row["var"] == pytest.approx(np.var(values, ddof=1) * (1 + 1 / 40), rel=1e-6)


def test_empty_results_give_empty_priors():
    assert priors_from_results(_results([])).empty
