"""Grading against results: lines, pushes, spreads and moneylines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from propsage.backtest.grading import attach_outcomes, grade, profit_per_unit


@pytest.mark.parametrize(("market", "line", "side", "value", "expected"), [
    ("player_points", 24.5, "over", 25, "win"),
    ("player_points", 24.5, "over", 24, "loss"),
    ("player_points", 24.5, "under", 24, "win"),
    ("player_points", 24.0, "over", 24, "push"),       # integer line, value on it
    ("player_points", 24.0, "under", 24, "push"),
    ("totals", 44.5, "under", 45, "loss"),
    ("spreads", -3.5, "over", 4, "win"),               # home -3.5, home won by 4
    ("spreads", -3.5, "over", 3, "loss"),
    ("spreads", -3.5, "under", 3, "win"),              # away +3.5
    ("spreads", 3.0, "over", -3, "push"),              # home +3, lost by 3
    ("h2h", 0.0, "over", 1, "win"),                    # home wins by 1
    ("h2h", 0.0, "under", 0, "push"),                  # a tie voids the moneyline
    ("player_anytime_td", np.nan, "over", 1, "win"),   # 'Yes' with no point
    ("player_anytime_td", np.nan, "over", 0, "loss"),
])
def test_grade(market, line, side, value, expected):
    assert grade([market], [line], [side], [value])[0] == expected


def test_a_bet_without_a_result_is_ungraded():
    assert grade(["player_points"], [24.5], ["over"], [np.nan])[0] == "ungraded"


def test_profit_per_unit_is_decimal_minus_one_on_a_win_and_zero_on_a_push():
    out = profit_per_unit(["win", "loss", "push", "ungraded"], [2.5, 1.9, 1.9, 1.9])
    assert out[:3].tolist() == [1.5, -1.0, 0.0]
    assert np.isnan(out[3])


def test_attach_outcomes_joins_results_by_game_player_and_market():
    bets = pd.DataFrame({"game_id": ["g", "g", "g"], "player_id": ["a", "a", "b"],
                         "market": ["player_points", "player_rebounds", "player_points"],
                         "line_numeric": [20.5, 7.5, 10.5], "side": ["over", "under", "over"]})
    results = pd.DataFrame({"game_id": ["g", "g"], "player_id": ["a", "a"],
                            "market": ["player_points", "player_rebounds"], "value": [22.0, 9.0]})
    out = attach_outcomes(bets, results)
    assert out["outcome"].tolist() == ["win", "loss", "ungraded"]
    assert out["won"].tolist()[:2] == [1.0, 0.0]
