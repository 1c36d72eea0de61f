"""Evidence: bounded, weighted, moment-matched adjustments."""

from __future__ import annotations

import numpy as np
import pytest

from propsage.pricing import Evidence, EvidenceBounds, apply_evidence, evidence_deltas


def test_weighted_deltas_add_up():
    ev = [Evidence("a", "player_points", "usage", mean_delta=0.10, weight=0.5),
          Evidence("a", None, "pace", mean_delta=0.04)]
    dm, dv, mix = evidence_deltas(["a", "a", "b"], ["player_points", "player_assists",
                                                    "player_points"], ev)
    np.testing.assert_allclose(dm, [0.09, 0.04, 0.0])
    np.testing.assert_allclose(mix, [0.0, 0.0, 0.0])


def test_each_item_and_the_total_are_bounded():
    bounds = EvidenceBounds(max_item=0.5, max_total=0.35)
    one = evidence_deltas(["a"], ["m"], [Evidence("a", "m", mean_delta=-0.9)], bounds)[0]
    two = evidence_deltas(["a"], ["m"], [Evidence("a", "m", mean_delta=-0.3)] * 3, bounds)[0]
    assert one[0] == pytest.approx(-0.35)
    assert two[0] == pytest.approx(-0.35)


def test_uncertain_evidence_is_a_two_point_mixture():
    # 30 % chance of a 40 % cut: mean 20 * (1 - 0.12); variance + 0.3 * 0.7 * (0.4 * 20)^2
    ev = [Evidence("a", "m", "injury", mean_delta=-0.4, prob=0.3)]
    deltas = evidence_deltas(["a"], ["m"], ev, EvidenceBounds(max_item=0.5, max_total=0.5))
    mean, var = apply_evidence([20.0], [30.0], deltas)
    assert mean[0] == pytest.approx(20 * 0.88)
    assert var[0] == pytest.approx(30 + 0.21 * 8.0**2)
    # Same as the exact mixture moments of {20 w.p. 0.7, 12 w.p. 0.3} with within-var 30:
    exact_var = 30 + 0.7 * (20 - 17.6) ** 2 + 0.3 * (12 - 17.6) ** 2
    assert var[0] == pytest.approx(exact_var)


def test_no_evidence_no_change():
    dm, dv, mix = evidence_deltas(["a"], ["m"], None)
    assert (dm[0], dv[0], mix[0]) == (0.0, 0.0, 0.0)
