"""Edge, EV and Kelly against hand-computed examples."""

from __future__ import annotations

import pytest

from propsage.pricing import edge, expected_value, kelly

D_110 = 1 + 100 / 110          # -110 in decimal odds


def test_ev_at_minus_110_with_a_55_percent_side():
    # 0.55 * (100/110) - 0.45 = 0.05
    assert expected_value(0.55, 0.45, D_110) == pytest.approx(0.05)


def test_full_and_quarter_kelly_at_minus_110():
    # f* = (b p - q) / b = (0.90909 * 0.55 - 0.45) / 0.90909 = 0.055
    assert kelly(0.55, 0.45, D_110) == pytest.approx(0.055)
    assert kelly(0.55, 0.45, D_110, fraction=0.25) == pytest.approx(0.01375)


def test_no_bet_without_an_edge():
    assert kelly(0.50, 0.50, D_110) == 0.0


def test_pushes_refund_the_stake():
    # even money, win 0.5, lose 0.4, push 0.1: EV = 0.5 - 0.4; Kelly = (0.5 - 0.4) / 0.9
    assert expected_value(0.5, 0.4, 2.0) == pytest.approx(0.1)
    assert kelly(0.5, 0.4, 2.0) == pytest.approx(0.1 / 0.9)


def test_edge_excludes_the_push_on_both_sides():
    # win 0.5, lose 0.4 -> 0.5 / 0.9 = 0.5556 against a no-vig 0.52
    assert edge(0.5, 0.4, 0.52) == pytest.approx(0.5 / 0.9 - 0.52)
