"""Odds arithmetic against published values.

Reference values: the three-way [2.7, 2.3, 4.4] and two-way [1.5, 2.74] examples from the
penaltyblog and shin documentation; the rest were computed with penaltyblog 1.13.1
(penaltyblog.implied.implied._<method>) and shin 0.2.2 (calculate_implied_probabilities,
full_output=True) in a scratch venv, and are pasted here as literals.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from propsage.odds import (
    METHODS,
    american_to_decimal,
    decimal_to_american,
    decimal_to_probability,
    devig,
    hold,
    implied_probability,
    no_vig_two_way,
    overround,
    probability_to_american,
    probability_to_decimal,
    shin_z,
)

THREE_WAY = [2.7, 2.3, 4.4]
TWO_WAY = [1.5, 2.74]
FOUR_WAY = [2.1, 3.4, 3.9, 12.0]

# method -> (odds, fair probabilities), penaltyblog 1.13.1 / shin 0.2.2.
REFERENCE: dict[str, list[tuple[list[float], list[float]]]] = {
    "multiplicative": [
        (THREE_WAY, [0.3587380362, 0.4211272598, 0.2201347040]),
        (TWO_WAY, [0.6462264151, 0.3537735849]),
        (FOUR_WAY, [0.4289804435, 0.2649585092, 0.2309894696, 0.0750715776]),
    ],
    "additive": [
        (THREE_WAY, [0.3595618016, 0.4239740399, 0.2164641585]),
        (TWO_WAY, [0.6508515815, 0.3491484185]),
        (FOUR_WAY, [0.4486775479, 0.2666047188, 0.2288973282, 0.0558204051]),
    ],
    "power": [
        (THREE_WAY, [0.3591710999, 0.4237307530, 0.2170981472]),
        (TWO_WAY, [0.6531522798, 0.3468477202]),
        (FOUR_WAY, [0.4447394326, 0.2627689632, 0.2262042609, 0.0662873433]),
    ],
    "shin": [
        (THREE_WAY, [0.3593439196, 0.4232438482, 0.2174122322]),
        (TWO_WAY, [0.6508515815, 0.3491484185]),
        (FOUR_WAY, [0.4415891996, 0.2656885096, 0.2293046429, 0.0634176479]),
    ],
    "odds_ratio": [
        (THREE_WAY, [0.3588103621, 0.4225614222, 0.2186282157]),
        (TWO_WAY, [0.6510178183, 0.3489821817]),
        ([1.4, 3.0], [0.6909830056, 0.3090169944]),
        (FOUR_WAY, [0.4374011408, 0.2627208141, 0.2277399902, 0.0721380548]),
    ],
}
CASES = [(m, odds, probs) for m, rows in REFERENCE.items() for odds, probs in rows]

american = st.one_of(
    st.floats(-100_000, -100, exclude_max=True), st.floats(100, 100_000)
)


def market(n_min: int = 2, n_max: int = 8):
    """Decimal odds of one book's market: fair probabilities plus a 0-15% margin."""
    return st.integers(n_min, n_max).flatmap(
        lambda n: st.tuples(
            st.lists(st.floats(0.02, 1.0), min_size=n, max_size=n), st.floats(0.0, 0.15)
        )
    ).map(lambda t: (1 + t[1]) * np.array(t[0]) / np.sum(t[0])).filter(
        lambda pi: pi.max() < 0.99
    ).map(lambda pi: 1.0 / pi)


# --- conversions ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("american_odds", "decimal"),
    [(-110, 1.9090909091), (150, 2.5), (-200, 1.5), (100, 2.0), (-100, 2.0), (250, 3.5)],
)
def test_american_to_decimal_known_values(american_odds, decimal):
    assert american_to_decimal(american_odds) == pytest.approx(decimal, abs=1e-9)


@pytest.mark.parametrize(("decimal", "american_odds"), [(2.5, 150), (1.5, -200), (1.909090909, -110)])
def test_decimal_to_american_known_values(decimal, american_odds):
    assert decimal_to_american(decimal) == pytest.approx(american_odds, abs=1e-6)


def test_even_money_decimal_is_plus_100_not_minus_100():
    assert decimal_to_american(2.0) == 100.0


def test_implied_probability_of_minus_110():
    assert implied_probability(-110) == pytest.approx(0.5238095238, abs=1e-9)


def test_implied_probability_of_plus_150_is_forty_percent():
    assert implied_probability(150) == pytest.approx(0.4, abs=1e-12)


def test_decimal_to_probability_inverts_the_odds():
    np.testing.assert_allclose(decimal_to_probability([4.0, 1.25]), [0.25, 0.8])


def test_probability_to_odds_known_values():
    np.testing.assert_allclose(probability_to_american([0.5, 0.6, 0.4]), [100, -150, 150])
    assert probability_to_decimal(0.25) == pytest.approx(4.0)


def test_conversions_are_vectorised_and_keep_shape():
    a = np.array([[-110, 150], [-200, 100]])
    assert american_to_decimal(a).shape == (2, 2)
    np.testing.assert_allclose(american_to_decimal(a), [[1.9090909091, 2.5], [1.5, 2.0]])


def test_scalar_in_gives_scalar_out():
    out = american_to_decimal(-110)
    assert np.ndim(out) == 0 and isinstance(out, float)


@given(american)
def test_american_decimal_round_trip(a):
    back = decimal_to_american(american_to_decimal(a))
    if abs(abs(a) - 100) < 1e-6:
        # -100 and +100 are the same price (even money): either sign is the right answer
        assert abs(back) == pytest.approx(100.0)
    else:
        assert back == pytest.approx(a, rel=1e-9)


@given(st.floats(1.0001, 1000.0))
def test_decimal_american_round_trip(d):
    assert american_to_decimal(decimal_to_american(d)) == pytest.approx(d, rel=1e-9)


@given(american)
def test_implied_probability_is_the_inverse_of_decimal_odds(a):
    assert implied_probability(a) == pytest.approx(1.0 / american_to_decimal(a), rel=1e-12)


@given(st.floats(0.001, 0.999))
def test_fair_american_of_a_probability_implies_that_probability(p):
    assert implied_probability(probability_to_american(p)) == pytest.approx(p, rel=1e-9)


# --- margins -------------------------------------------------------------------------------

def test_overround_and_hold_of_minus_110_both_sides():
    d = american_to_decimal([-110, -110])
    assert overround(d) == pytest.approx(0.0476190476, abs=1e-9)  # 220/210 - 1
    assert hold(d) == pytest.approx(0.0454545455, abs=1e-9)  # 1 - 210/220


def test_overround_reduces_the_given_axis():
    d = np.array([[2.0, 2.0, 1.8], [2.0, 2.0, 1.8]])  # markets down the columns
    np.testing.assert_allclose(overround(d, axis=0), [0.0, 0.0, 2 / 1.8 - 1])
    np.testing.assert_allclose(overround(d), [1 / 1.8, 1 / 1.8])


def test_overround_of_a_market_with_a_missing_side_is_nan():
    assert np.isnan(overround([1.9, np.nan]))


# --- de-vig: published values --------------------------------------------------------------

@pytest.mark.parametrize(("method", "odds", "probs"), CASES)
def test_devig_matches_penaltyblog_and_shin(method, odds, probs):
    np.testing.assert_allclose(devig(odds, method), probs, atol=1e-9)


def test_devig_documented_examples_to_seven_places():
    np.testing.assert_allclose(devig(THREE_WAY, "multiplicative"),
                               [0.3587380, 0.4211273, 0.2201347], atol=1e-7)
    np.testing.assert_allclose(devig(THREE_WAY, "shin"), [0.3593439, 0.4232438, 0.2174122],
                               atol=1e-7)
    np.testing.assert_allclose(devig(THREE_WAY, "power"), [0.3591711, 0.4237308, 0.2170981],
                               atol=1e-7)
    np.testing.assert_allclose(devig(TWO_WAY, "shin"), [0.6508516, 0.3491484], atol=1e-7)
    np.testing.assert_allclose(devig(TWO_WAY, "additive"), [0.6508516, 0.3491484], atol=1e-7)


@pytest.mark.parametrize(
    ("odds", "z"),
    [(THREE_WAY, 0.0162364429), (TWO_WAY, 0.0317272854), ([1.25, 4.0], 0.0510325994),
     (FOUR_WAY, 0.0376148626)],
)
def test_shin_z_matches_the_shin_package(odds, z):
    assert shin_z(odds) == pytest.approx(z, abs=1e-9)


def test_worst_case_is_the_lowest_published_probability_per_outcome():
    lowest = np.min([rows[0][1] for rows in REFERENCE.values()], axis=0)  # rows[0]: THREE_WAY
    out = devig(THREE_WAY, "worst_case")
    np.testing.assert_allclose(out, lowest, atol=1e-9)
    assert out.sum() < 1.0


# --- de-vig: properties --------------------------------------------------------------------

@pytest.mark.parametrize("method", [m for m in METHODS if m != "worst_case"])
@given(odds=market())
def test_fair_probabilities_sum_to_one(method, odds):
    assert devig(odds, method).sum() == pytest.approx(1.0, abs=1e-9)


@given(odds=market(2, 2))
def test_two_way_shin_equals_additive(odds):
    # A known property of Shin's model (Smith, Paton & Vaughan 2009; shin package docs).
    np.testing.assert_allclose(devig(odds, "shin"), devig(odds, "additive"), atol=1e-9)


@given(odds=market(2, 6))
def test_worst_case_never_exceeds_any_method(odds):
    worst = devig(odds, "worst_case")
    for method in METHODS[:-1]:
        assert np.all(worst <= devig(odds, method) + 1e-12)


def test_shin_handles_an_underround_market():
    # sum(1/d) < 1 (best prices across books): the plain fixed-point iteration diverges here.
    odds = [2.9, 3.1, 3.4]
    with np.errstate(all="raise"):
        p = devig(odds, "shin")
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    assert shin_z(odds) < 0


# --- de-vig: shapes and missing sides ------------------------------------------------------

def test_devig_many_markets_at_once_matches_each_market_alone():
    odds = np.array([THREE_WAY, [1.8, 3.6, 4.5], FOUR_WAY[:3]])
    for method in METHODS:
        batch = devig(odds, method)
        assert batch.shape == (3, 3)
        for row, expected in zip(odds, batch, strict=True):
            np.testing.assert_allclose(devig(row, method), expected, atol=1e-12)


def test_devig_along_axis_zero_transposes():
    odds = np.array([TWO_WAY, [1.4, 3.0]])
    for method in METHODS:
        np.testing.assert_allclose(devig(odds.T, method, axis=0), devig(odds, method).T,
                                   atol=1e-12)


def test_devig_keeps_extra_leading_dimensions():
    odds = np.tile(np.array(THREE_WAY), (4, 5, 1))
    out = devig(odds, "shin")
    assert out.shape == (4, 5, 3)
    np.testing.assert_allclose(out[3, 2], REFERENCE["shin"][0][1], atol=1e-9)
    assert shin_z(odds).shape == (4, 5)


def test_a_market_with_a_missing_side_devigs_to_nan_and_leaves_others_alone():
    odds = np.array([TWO_WAY, [1.9, np.nan], [np.nan, np.nan]])
    for method in METHODS:
        out = devig(odds, method)
        assert np.isnan(out[1:]).all()
        np.testing.assert_allclose(out[0], devig(TWO_WAY, method), atol=1e-12)
    assert np.isnan(shin_z(odds)[1:]).all()


def test_no_vig_two_way_from_american_odds():
    p_over, p_under = no_vig_two_way([-110, -200], [-110, 150])
    np.testing.assert_allclose(p_over, [0.5, 0.625], atol=1e-12)  # (2/3) / (2/3 + 0.4)
    np.testing.assert_allclose(p_under, [0.5, 0.375], atol=1e-12)


def test_no_vig_two_way_uses_the_chosen_method():
    over, under = decimal_to_american(np.array(TWO_WAY))
    p_over, p_under = no_vig_two_way(over, under, method="shin")
    assert (p_over, p_under) == pytest.approx((0.6508515815, 0.3491484185), abs=1e-9)


def test_no_vig_two_way_one_sided_quote_is_nan_without_error():
    p_over, p_under = no_vig_two_way([-110, np.nan, 120], [-110, -130, np.nan])
    assert np.isnan(p_over[1:]).all() and np.isnan(p_under[1:]).all()
    assert p_over[0] == pytest.approx(0.5)


@given(arrays(np.float64, (30,), elements=american))
def test_no_vig_two_way_probabilities_sum_to_one(over):
    p_over, p_under = no_vig_two_way(over, over[::-1])
    np.testing.assert_allclose(p_over + p_under, 1.0, atol=1e-12)


# --- invalid input -------------------------------------------------------------------------

def test_american_odds_inside_plus_minus_100_name_value_and_index():
    with pytest.raises(ValueError, match=r"<= -100 or >= \+100.*got 50 at index 3"):
        american_to_decimal([-110, 120, 150, 50])


def test_american_odds_of_zero_scalar_is_rejected():
    with pytest.raises(ValueError, match=r"got 0$"):
        implied_probability(0)


def test_american_odds_error_lists_several_positions_in_nd_arrays():
    with pytest.raises(ValueError, match=r"got inf at index \(0, 1\), -99.5 at index \(1, 0\)"):
        american_to_decimal([[-110, np.inf], [-99.5, 120]])


def test_no_vig_two_way_names_the_bad_side():
    with pytest.raises(ValueError, match=r"got 20 at index 1 in under_american"):
        no_vig_two_way([-110, -110], [-110, 20])


@pytest.mark.parametrize(("bad", "shown"), [(1.0, "1"), (0.5, "0.5"), (-2.0, "-2"),
                                            (np.inf, "inf")])
def test_decimal_odds_must_exceed_one_and_be_finite(bad, shown):
    with pytest.raises(ValueError, match=rf"decimal odds must be > 1 and finite, got {shown} at "
                                         r"index 1"):
        devig([2.0, bad])


def test_overround_rejects_invalid_decimal_odds():
    with pytest.raises(ValueError, match="got 0.9 at index 0"):
        overround([0.9, 1.5])


def test_probability_outside_zero_one_is_rejected():
    with pytest.raises(ValueError, match=r"probability must be in \(0, 1\), got 1 at index 1"):
        probability_to_american([0.5, 1.0])


def test_unknown_devig_method_lists_the_allowed_ones():
    with pytest.raises(ValueError, match="unknown de-vig method 'logit'; allowed: multiplicative"):
        devig(TWO_WAY, "logit")


def test_devig_needs_at_least_two_outcomes():
    with pytest.raises(ValueError, match="at least 2 outcomes"):
        devig([[2.0], [3.0]])


def test_devig_of_a_scalar_is_rejected():
    with pytest.raises(ValueError, match="got a scalar"):
        devig(2.0)


@pytest.mark.parametrize("method", ["power", "shin", "odds_ratio"])
def test_iterative_methods_warn_when_they_run_out_of_iterations(method):
    with pytest.warns(RuntimeWarning, match=f"{method} de-vig did not converge for 1 market"):
        devig(FOUR_WAY, method, max_iter=1)


def test_invalid_american_marks_present_but_impossible_prices_only():
    from propsage.odds import american_or_nan, invalid_american

    prices = np.array([-110.0, 50.0, np.nan, np.inf, 100.0, -100.0, -99.5])
    assert invalid_american(prices).tolist() == [False, True, False, True, False, False, True]
    np.testing.assert_array_equal(american_or_nan(prices),
                                  [-110.0, np.nan, np.nan, np.nan, 100.0, -100.0, np.nan])
