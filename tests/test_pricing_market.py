"""Market-implied distributions: inversion recovers known parameters; consensus; no-vig."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from propsage.domain import as_offer_frame
from propsage.pricing import fit_market, implied_mean, no_vig


def _american(p):
    p = np.asarray(p, float)
    return np.where(p >= 0.5, -100 * p / (1 - p), 100 * (1 - p) / p)


@pytest.mark.parametrize(("family", "shape", "zero", "mean"), [
    ("normal", 13.5, 0.0, 44.3),
    ("gamma", 1.8, 0.0, 61.0),
    ("gamma", 1.8, 0.12, 61.0),
    ("negbin", 8.0, 0.0, 22.4),
    ("poisson", np.nan, 0.0, 2.3),
])
@pytest.mark.parametrize("line_offset", [-1.5, 0.5, 2.0, -1.0])
def test_inversion_recovers_the_mean(family, shape, zero, mean, line_offset):
    line = np.floor(mean) + line_offset
    if family == "normal":
        dist = stats.norm(mean, shape)
        cdf = dist.cdf
    elif family == "gamma":
        base = stats.gamma(shape, scale=mean / shape)
        def cdf(x):
            return np.where(x > 0, zero + (1 - zero) * base.cdf(x), 0.0)
    elif family == "negbin":
        cdf = stats.nbinom(shape, shape / (shape + mean)).cdf
    else:
        cdf = stats.poisson(mean).cdf
    if family in ("normal", "gamma"):       # outcome read as round(X)
        over = 1 - cdf(np.floor(line) + 0.5)
        under = cdf(np.ceil(line) - 0.5)
    else:
        over = 1 - cdf(np.floor(line))
        under = cdf(np.ceil(line) - 1)
    p_over = over / (over + under)          # what a no-vig price says (push excluded)
    got = implied_mean(np.array([family]), [shape], [zero], [line], [p_over])
    assert got[0] == pytest.approx(mean, rel=1e-6)


def _quotes(mean, r, lines, books, hold=0.05):
    ref = stats.nbinom(r, r / (r + mean))
    rows = []
    for line, book in zip(lines, books, strict=True):
        p = ref.sf(np.floor(line))
        rows.append({"game_id": "g1", "league": "nba", "player_name": "Avery Calloway",
                     "market": "player_points", "book": book, "line": line,
                     "over_price": float(_american(p * (1 + hold))),
                     "under_price": float(_american((1 - p) * (1 + hold)))})
    return rows


def test_fit_market_recovers_the_mean_across_books_and_lines():
    offers = as_offer_frame(_quotes(21.3, 8.0, [20.5, 21.5, 22.5], ["a", "b", "c"]))
    fit = fit_market(offers)
    row = fit.loc[("g1", "avery-calloway", "player_points")]
    assert row["family"] == "negbin"
    assert row["mean"] == pytest.approx(21.3, rel=1e-6)
    assert row["n_quotes"] == 3 and row["n_books"] == 3
    assert row["mean_sd"] == pytest.approx(0.0, abs=1e-6)


def test_fit_market_holds_a_players_own_shape_fixed():
    offers = as_offer_frame(_quotes(21.3, 4.0, [21.5], ["a"]))
    shapes = pd.DataFrame({"shape": [4.0], "zero_prob": [0.0]}, index=pd.MultiIndex.from_tuples(
        [("avery-calloway", "player_points")], names=["player_id", "market"]))
    default = fit_market(offers).iloc[0]["mean"]
    own = fit_market(offers, shapes).iloc[0]["mean"]
    assert own == pytest.approx(21.3, rel=1e-6)
    assert default != pytest.approx(21.3, rel=1e-3)


def test_fit_market_reads_spreads_as_the_home_margin():
    # Home -3.5 at a fair 50/50 means a median home margin of 3.5.
    offers = as_offer_frame([{"game_id": "g", "league": "nfl", "market": "spreads",
                              "book": "a", "line": -3.5, "over_price": -110.0,
                              "under_price": -110.0}])
    assert fit_market(offers).iloc[0]["mean"] == pytest.approx(3.5)


def test_no_vig_is_nan_for_one_sided_and_invalid_quotes():
    offers = as_offer_frame([
        {"game_id": "g", "market": "player_anytime_td", "book": "a", "player_name": "X Y",
         "over_price": 150.0},
        {"game_id": "g", "market": "player_points", "book": "a", "player_name": "X Y",
         "line": 20.5, "over_price": -110.0, "under_price": -50.0},
        {"game_id": "g", "market": "player_points", "book": "b", "player_name": "X Y",
         "line": 20.5, "over_price": -110.0, "under_price": -110.0},
    ])
    p_over, p_under = no_vig(offers)
    assert np.isnan(p_over[0]) and np.isnan(p_over[1])
    assert (p_over[2], p_under[2]) == pytest.approx((0.5, 0.5))
