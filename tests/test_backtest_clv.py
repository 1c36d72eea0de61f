"""Closing-line value: line-aware through the distribution, same-line kept beside it, by book."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from propsage.backtest.clv import attach_clv, clv_by, clv_summary
from propsage.pricing.markets import MARKETS

PM = {"game_id": "g", "player_id": "p", "market": "player_points", "league": "nba"}


def closing_board(line: float, quotes: list[tuple[str, float, float]]) -> pd.DataFrame:
    return pd.DataFrame([{**PM, "prop_offer_id": f"{b}-{line}", "book": b, "line_numeric": line,
                          "over_price": o, "under_price": u} for b, o, u in quotes])


def bet(line: float, side: str, price: float, book: str = "fanduel") -> pd.DataFrame:
    dec = 1 + price / 100 if price > 0 else 1 + 100 / -price
    return pd.DataFrame([{**PM, "book": book, "line_numeric": line, "side": side,
                          "price": price, "decimal": dec}])


def negbin_over(mean: float, r: float, line: float) -> float:
    """P(X > line) of a negative binomial with mean and size r (scipy's parametrisation)."""
    return float(stats.nbinom.sf(np.floor(line), r, r / (r + mean)))


def test_a_bet_at_a_line_the_market_left_is_priced_through_the_closing_distribution():
    spec = MARKETS["player_points"]
    assert spec.family == "negbin"
    r = spec.shape
    # Every book closed Over/Under 24.5 at -110/-110: a fair 50 % at 24.5.
    close = closing_board(24.5, [(b, -110, -110) for b in ("dk", "mgm", "czr", "fd")])
    out = attach_clv(bet(23.5, "over", 100), close)
    mean = optimize.brentq(lambda m: negbin_over(m, r, 24.5) - 0.5, 1, 100)
    expected = negbin_over(mean, r, 23.5)          # P(over 23.5) under the closing law
    assert out["p_close"].iloc[0] == pytest.approx(expected, abs=1e-6)
    assert out["clv_ev"].iloc[0] == pytest.approx(2 * expected - 1, abs=1e-6)
    assert out["beat_close"].iloc[0] == 1.0
    # No book closed at 23.5: the same-line measure has nothing, the bet is still counted.
    assert np.isnan(out["p_close_same_line"].iloc[0])
    assert bool(out["line_moved"].iloc[0]) and not bool(out["moved_against"].iloc[0])


def test_an_over_whose_line_fell_by_the_close_is_a_move_against_the_bettor():
    close = closing_board(22.5, [(b, -110, -110) for b in ("dk", "mgm", "czr")])
    out = attach_clv(bet(23.5, "over", -110), close)
    assert bool(out["moved_against"].iloc[0])
    assert out["clv_ev"].iloc[0] < 0


def test_at_an_unmoved_line_clv_is_the_closing_no_vig_probability_times_the_price():
    # Closing books at 24.5: +110/-130 and -105/-115 -> multiplicative no-vig P(over) each.
    quotes = [("dk", 110, -130), ("mgm", -105, -115)]
    close = closing_board(24.5, quotes)
    out = attach_clv(bet(24.5, "under", 120), close)

    def p_over(o: float, u: float) -> float:
        io = 100 / (o + 100) if o > 0 else -o / (100 - o)
        iu = 100 / (u + 100) if u > 0 else -u / (100 - u)
        return io / (io + iu)

    same = 1 - np.mean([p_over(o, u) for _, o, u in quotes])
    assert out["p_close_same_line"].iloc[0] == pytest.approx(same, abs=1e-12)
    assert out["clv_ev_same_line"].iloc[0] == pytest.approx(same * 2.2 - 1, abs=1e-12)
    # Line-aware reads the same line back from the fitted distribution: the same to ~1e-3.
    assert out["p_close"].iloc[0] == pytest.approx(same, abs=2e-3)


def test_summary_reports_the_share_beating_the_close_with_its_wilson_interval():
    bets = pd.DataFrame({"game_id": [f"g{i}" for i in range(263)],
                         "clv_ev": [0.01] * 81 + [-0.01] * 182,
                         "clv_ev_same_line": np.nan, "line_moved": False, "moved_against": False,
                         "book": "fanduel"})
    s = clv_summary(bets)["line_aware"]
    assert s["beat_close"] == pytest.approx(81 / 263)
    # Newcombe (1998), Stat. Med. 17:857, Table I: 81/263 -> Wilson 0.2553 to 0.3662.
    assert s["beat_close_ci"] == pytest.approx([0.2553, 0.3662], abs=5e-5)


def test_clv_by_book_separates_books():
    bets = pd.DataFrame({"game_id": ["a", "b", "c", "d"], "book": ["x", "x", "y", "y"],
                         "clv_ev": [0.02, 0.04, -0.01, -0.03], "clv_ev_same_line": np.nan,
                         "line_moved": [False, True, False, False]})
    table = clv_by(bets, "book").set_index("book")
    assert table.loc["x", "beat_close"] == 1.0 and table.loc["y", "beat_close"] == 0.0
    assert table.loc["x", "clv_ev_mean"] == pytest.approx(0.03)
    assert table.loc["x", "line_moved"] == 1
