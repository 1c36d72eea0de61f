"""Monte Carlo sums against closed forms (scipy.stats), within 3 standard errors."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from propsage.pricing import count_grid, prob_over_under_push, simulate_sum
from propsage.pricing.montecarlo import mc_standard_error

N = 10_000


def _check_single(family, mean, var, zero, lines):
    n = len(mean)
    fam = np.array([family] * n)
    grid = simulate_sum([count_grid(fam, mean, var, zero)], [[1.0]], n_sims=N, seed=3)
    mc_over, mc_under, _ = grid.over_under_push(np.asarray(lines, float))
    over, under, _ = prob_over_under_push(
        {"family": fam, "mean": mean, "var": var, "zero_prob": zero}, lines)
    for mc, exact in ((mc_over, over), (mc_under, under)):
        se = mc_standard_error(exact, N)
        assert np.all(np.abs(mc - exact) <= 3 * se), (family, mc, exact)


@pytest.mark.parametrize(("family", "mean", "var", "zero", "lines"), [
    ("negbin", [3.0, 14.0, 26.0], [4.5, 40.0, 110.0], [0, 0, 0], [2.5, 13.5, 25.0]),
    ("poisson", [0.6, 2.2, 6.0], [0.6, 2.2, 6.0], [0, 0, 0], [0.5, 2.0, 5.5]),
    ("gamma", [45.0, 70.0, 240.0], [1125.0, 2722.0, 7200.0], [0.2, 0.0, 0.0], [39.5, 70.0, 249.5]),
    ("normal", [44.0, -3.0, 7.5], [180.0, 160.0, 30.0], [0, 0, 0], [45.0, -2.5, 7.5]),
])
def test_simulated_single_outcomes_match_closed_forms(family, mean, var, zero, lines):
    _check_single(family, np.array(mean), np.array(var), np.array(zero, float), lines)


def test_independent_poisson_sum_is_poisson_of_the_total():
    means = [np.array([18.0, 9.0]), np.array([6.0, 3.0]), np.array([4.0, 2.5])]
    grids = [count_grid(np.array(["poisson"] * 2), m, m) for m in means]
    total = sum(means)
    lines = np.array([27.5, 14.0])
    mc_over, _, mc_push = simulate_sum(grids, np.eye(3), n_sims=N, seed=5).over_under_push(lines)
    exact_over = stats.poisson.sf(np.floor(lines), total)
    exact_push = np.array([0.0, stats.poisson.pmf(14, total[1])])
    assert np.all(np.abs(mc_over - exact_over) <= 3 * mc_standard_error(exact_over, N))
    assert np.all(np.abs(mc_push - exact_push) <= 3 * mc_standard_error(exact_push, N) + 1e-12)


def test_correlated_normal_sum_has_the_bivariate_variance():
    # X1, X2 ~ N(0, 10^2) with correlation 0.5: Var(X1 + X2) = 300 (+ 2/12 from rounding each).
    rho, sd = 0.5, 10.0
    g = count_grid(np.array(["normal"]), [0.0], [sd**2])
    grid = simulate_sum([g, g], [[1, rho], [rho, 1]], n_sims=N, seed=9)
    k = grid.lo[0] + np.arange(grid.pmf.shape[1])
    mean = (grid.pmf[0] * k).sum()
    var = (grid.pmf[0] * (k - mean) ** 2).sum()
    expected = 2 * sd**2 * (1 + rho) + 2 / 12
    assert abs(var - expected) <= 3 * expected * np.sqrt(2 / N)


def test_same_seed_same_prices_new_seed_new_draws():
    g = [count_grid(np.array(["negbin"]), [20.0], [70.0])]
    a = simulate_sum(g, [[1.0]], n_sims=2_000, seed=1).pmf
    b = simulate_sum(g, [[1.0]], n_sims=2_000, seed=1).pmf
    c = simulate_sum(g, [[1.0]], n_sims=2_000, seed=2).pmf
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_chunking_does_not_change_the_result():
    m = np.linspace(5, 30, 7)
    g = [count_grid(np.array(["negbin"] * 7), m, m * 2), count_grid(np.array(["poisson"] * 7), m / 3, m / 3)]
    corr = [[1, 0.2], [0.2, 1]]
    whole = simulate_sum(g, corr, n_sims=1_000, seed=4, chunk_rows=64).pmf
    chunked = simulate_sum(g, corr, n_sims=1_000, seed=4, chunk_rows=2).pmf
    np.testing.assert_array_equal(whole, chunked)
