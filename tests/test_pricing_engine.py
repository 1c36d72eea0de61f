"""price_offers / price_board: the priced board's behaviour."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from propsage.domain import as_offer_frame
from propsage.pricing import (
    PRICE_COLUMNS,
    ContextSettings,
    Evidence,
    PricingSettings,
    price_board,
    price_offers,
    priors_from_results,
)

T = pd.Timestamp("2025-02-01T18:00Z")


def _offer(market="player_points", line=20.5, over=-110.0, under=-110.0, book="dk",
           name="Avery Calloway", game="g1", league="nba", **kw):
    return {"game_id": game, "league": league, "player_name": name, "market": market,
            "book": book, "line": line, "over_price": over, "under_price": under,
            "fetched_at": T, **kw}


def _history(name, market, values, position="G", league="nba"):
    days = pd.date_range("2025-01-01", periods=len(values), freq="D")
    from propsage.domain import normalize_player_id
    return pd.DataFrame({"game_id": [f"h{i}" for i in range(len(values))], "league": league,
                         "game_date": days, "player_id": normalize_player_id(name),
                         "player_name": name, "position": position, "market": market,
                         "value": np.asarray(values, float)})


def test_returns_a_priced_copy_in_the_same_order():
    offers = as_offer_frame([_offer(book="dk"), _offer(book="fd", line=21.5, over=120,
                                                       under=-150)])
    before = offers.copy()
    out = price_offers(offers)
    assert list(out.columns) == list(offers.columns) + PRICE_COLUMNS
    pd.testing.assert_frame_equal(offers, before)
    assert out["offer_id"].tolist() == offers["offer_id"].tolist()


def test_market_only_single_book_has_no_edge_and_pays_the_vig():
    out = price_offers(as_offer_frame([_offer()]))
    row = out.iloc[0]
    assert row["implied_prob"] == pytest.approx(0.5)
    assert row["fair_over_prob"] == pytest.approx(0.5, abs=1e-9)
    assert row["edge_over"] == pytest.approx(0.0, abs=1e-9)
    # EV at -110 with p = 0.5: 0.5 * 100/110 - 0.5
    assert row["ev_over"] == pytest.approx(0.5 * 100 / 110 - 0.5, abs=1e-9)
    assert row["kelly_over"] == 0.0
    assert row["model"] == "negbin" and row["fair_source"] == "market"
    assert row["mc_se"] == 0.0


def test_alternate_lines_share_one_distribution():
    offers = as_offer_frame([_offer(line=ln, book=b) for ln, b in
                             [(18.5, "a"), (20.5, "b"), (22.5, "c"), (24.5, "d")]])
    out = price_offers(offers)
    assert out["fair_line"].nunique() == 1
    assert np.all(np.diff(out["fair_over_prob"].to_numpy()) < 0)


def test_integer_lines_push_with_the_pmf_of_the_fair_distribution():
    offers = as_offer_frame([_offer(line=20.0, over=-105, under=-115), _offer(book="x")])
    board = price_board(offers)
    pm = board.player_markets.iloc[0]
    r = pm["fair_mean"] ** 2 / (pm["fair_var"] - pm["fair_mean"])
    ref = stats.nbinom(r, r / (r + pm["fair_mean"]))
    row = board.offers.iloc[0]
    assert row["push_prob"] == pytest.approx(ref.pmf(20), rel=1e-9)
    assert row["fair_over_prob"] == pytest.approx(ref.sf(20), rel=1e-9)
    assert row["fair_over_prob"] + row["fair_under_prob"] + row["push_prob"] == pytest.approx(1)


def test_one_sided_quotes_get_ev_but_no_no_vig_edge():
    out = price_offers(as_offer_frame([_offer(), _offer(book="solo", under=np.nan, over=105)]))
    solo = out.iloc[1]
    assert np.isnan(solo["implied_prob"]) and np.isnan(solo["edge"])
    p, q = solo["fair_over_prob"], solo["fair_under_prob"]
    assert solo["ev_over"] == pytest.approx(p * 1.05 - q)
    assert solo["best_side"] == "over"


def test_a_prior_is_blended_with_the_market_by_confidence():
    prior = priors_from_results(_history("Avery Calloway", "player_points", [30] * 20 + [28] * 10))
    settings = PricingSettings(context=ContextSettings(max_model_weight=0.5))
    board = price_board(as_offer_frame([_offer()]), prior, settings=settings)
    pm = board.player_markets.iloc[0]
    w = 0.5 * pm["confidence"]
    assert pm["model_weight"] == pytest.approx(w)
    assert pm["fair_mean"] == pytest.approx(w * pm["model_mean"] + (1 - w) * pm["market_mean"])
    row = board.offers.iloc[0]
    assert row["best_side"] == "over" and row["edge"] > 0 and row["kelly_over"] > 0


def test_evidence_moves_the_model_mean():
    prior = priors_from_results(_history("Avery Calloway", "player_points", [20, 22] * 10))
    offers = as_offer_frame([_offer()])
    base = price_offers(offers, prior).iloc[0]
    hurt = price_offers(offers, prior, [Evidence("avery-calloway", "player_points", "injury",
                                                 mean_delta=-0.2)]).iloc[0]
    assert hurt["model_mean"] == pytest.approx(base["model_mean"] * 0.8)
    assert hurt["fair_over_prob"] < base["fair_over_prob"]


def test_combos_are_simulated_from_the_components():
    name = "Avery Calloway"
    hist = pd.concat([_history(name, "player_points", [24, 26] * 10),
                      _history(name, "player_rebounds", [5, 6] * 10),
                      _history(name, "player_assists", [7, 8] * 10)])
    offers = as_offer_frame([_offer(market="player_points_rebounds_assists", line=37.5,
                                    book=b) for b in ("a", "b")])
    out = price_offers(offers, priors_from_results(hist), n_sims=10_000)
    row = out.iloc[0]
    assert row["model"] == "mc_copula"
    assert 0 < row["mc_se"] <= 0.005
    assert row["model_mean"] == pytest.approx(25 + 5.5 + 7.5, rel=0.02)


def test_significant_recent_moves_cost_confidence_and_agreement_earns_it():
    offers = as_offer_frame([_offer(book=b) for b in ("a", "b", "c")])
    calm = price_offers(offers).iloc[0]["confidence_score"]
    moves = pd.DataFrame({"game_id": ["g1"] * 2, "player_id": ["avery-calloway"] * 2,
                          "market": ["player_points"] * 2, "kind": ["line", "line"],
                          "movement_size": [1.0, 1.5], "timestamp": [T, T]})
    moved = price_offers(offers, movements=moves, now=T).iloc[0]["confidence_score"]
    assert calm == pytest.approx(0.10)          # books agree exactly: the seed's bonus
    assert moved == pytest.approx(0.0)          # 0.10 - 2 x 0.05


def test_game_markets_are_priced_from_the_market():
    offers = as_offer_frame([
        _offer(market="h2h", line=0.0, over=-150, under=130, name="", book="a"),
        _offer(market="h2h", line=0.0, over=-140, under=120, name="", book="b"),
        _offer(market="spreads", line=-3.5, name="", book="a"),
        _offer(market="totals", line=221.5, name="", book="a"),
    ])
    out = price_offers(offers)
    h2h = out[out["market"] == "h2h"]
    assert h2h["fair_over_prob"].iloc[0] == pytest.approx(h2h["implied_prob"].mean())
    spread = out[out["market"] == "spreads"].iloc[0]
    assert spread["fair_line"] == pytest.approx(-3.5)       # home point, fair at 50/50
    assert spread["p05"] < spread["fair_line"] < spread["p95"]
    total = out[out["market"] == "totals"].iloc[0]
    assert total["fair_line"] == pytest.approx(221.5)


def test_board_prices_any_line_of_a_player_market():
    board = price_board(as_offer_frame([_offer()]))
    keys = pd.DataFrame({"game_id": ["g1"] * 2, "player_id": ["avery-calloway"] * 2,
                         "market": ["player_points"] * 2})
    over, under, push = board.over_under_push(keys, [20.5, 25.0])
    assert over[0] == pytest.approx(board.offers["fair_over_prob"].iloc[0])
    assert push[1] > 0 and over[1] < over[0]


def test_empty_board():
    out = price_offers(as_offer_frame([]))
    assert out.empty and set(PRICE_COLUMNS) <= set(out.columns)
