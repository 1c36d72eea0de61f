"""Closed-form probabilities and quantiles against scipy.stats (an outside reference)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from propsage.pricing import count_grid, prob_over_under_push, quantiles


def _params(family, mean, var, zero=0.0):
    n = len(np.atleast_1d(mean))
    return {"family": np.array([family] * n), "mean": np.atleast_1d(mean).astype(float),
            "var": np.atleast_1d(var).astype(float), "zero_prob": np.full(n, zero)}


def test_negbin_half_lines_match_scipy_nbinom():
    mean, r = np.array([3.0, 12.0, 25.0]), 8.0
    lines = np.array([2.5, 11.5, 27.5])
    over, under, push = prob_over_under_push(_params("negbin", mean, mean + mean**2 / r), lines)
    ref = stats.nbinom(r, r / (r + mean))
    np.testing.assert_allclose(over, ref.sf(np.floor(lines)), rtol=1e-10)
    np.testing.assert_allclose(under, ref.cdf(np.floor(lines)), rtol=1e-10)
    assert np.all(push == 0)


def test_integer_line_push_is_the_pmf_for_counts():
    mean = np.array([2.0, 7.0])
    over, under, push = prob_over_under_push(_params("poisson", mean, mean), [2.0, 7.0])
    np.testing.assert_allclose(push, stats.poisson.pmf([2, 7], mean), rtol=1e-10)
    np.testing.assert_allclose(over, stats.poisson.sf([2, 7], mean), rtol=1e-10)
    np.testing.assert_allclose(under, stats.poisson.cdf([1, 6], mean), rtol=1e-10)


def test_negbin_with_var_not_above_mean_is_poisson():
    over, _, _ = prob_over_under_push(_params("negbin", [4.0], [3.5]), [4.5])
    assert over[0] == pytest.approx(stats.poisson.sf(4, 4.0), rel=1e-12)


def test_continuous_families_read_integer_outcomes_as_rounded():
    # normal at an integer line: push = P(L - 0.5 <= X < L + 0.5)
    over, under, push = prob_over_under_push(_params("normal", [44.0], [13.5**2]), [45.0])
    ref = stats.norm(44.0, 13.5)
    assert push[0] == pytest.approx(ref.cdf(45.5) - ref.cdf(44.5), rel=1e-10)
    assert over[0] == pytest.approx(ref.sf(45.5), rel=1e-10)
    assert under[0] == pytest.approx(ref.cdf(44.5), rel=1e-10)


def test_gamma_with_a_hurdle_matches_the_mixture():
    k, mean, zero = 1.8, 60.0, 0.15
    over, under, push = prob_over_under_push(
        _params("gamma", [mean], [mean**2 / k], zero), [49.5])
    base = stats.gamma(k, scale=mean / k)
    assert over[0] == pytest.approx((1 - zero) * base.sf(49.5), rel=1e-10)
    assert under[0] == pytest.approx(zero + (1 - zero) * base.cdf(49.5), rel=1e-10)
    assert push[0] == 0


def test_bernoulli_without_a_line_is_yes_no():
    over, under, push = prob_over_under_push(_params("bernoulli", [0.35], [np.nan]), [np.nan])
    assert (over[0], under[0], push[0]) == pytest.approx((0.35, 0.65, 0.0))


def test_quantiles_of_continuous_families_are_scipy_ppf():
    q = quantiles({"family": np.array(["normal", "gamma"]), "mean": np.array([230.0, 55.0]),
                   "var": np.array([60.0**2, 55.0**2 / 2.0])}, [0.05, 0.5, 0.95])
    np.testing.assert_allclose(q[0], stats.norm(230, 60).ppf([0.05, 0.5, 0.95]), rtol=1e-10)
    np.testing.assert_allclose(q[1], stats.gamma(2.0, scale=27.5).ppf([0.05, 0.5, 0.95]),
                               rtol=1e-8)


def test_count_median_is_a_fifty_fifty_line():
    # The continuity-corrected median m of a count: the median of X + U(-1/2, 1/2).
    mean, r = 17.3, 8.0
    m = quantiles(_params("negbin", [mean], [mean + mean**2 / r]), [0.5])[0, 0]
    ref = stats.nbinom(r, r / (r + mean))
    k = np.round(m)
    jittered_cdf = ref.cdf(k - 1) + (m - (k - 0.5)) * ref.pmf(k)
    assert jittered_cdf == pytest.approx(0.5, abs=1e-9)
    assert ref.cdf(k - 1) < 0.5 <= ref.cdf(k)


def test_count_grid_is_the_exact_pmf():
    g = count_grid(np.array(["negbin"]), [6.0], [6.0 + 36 / 19])
    r = 19.0
    np.testing.assert_allclose(g.pmf[0, :30], stats.nbinom.pmf(np.arange(30), r, r / (r + 6)),
                               rtol=1e-9)


def test_unknown_family_is_an_error():
    with pytest.raises(ValueError, match="unknown distribution family"):
        prob_over_under_push(_params("lognormal", [1.0], [1.0]), [0.5])
