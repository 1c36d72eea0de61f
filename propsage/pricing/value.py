"""Value of a bet from fair probabilities and a price: edge, expected value, Kelly stake.

Probabilities are raw: p_win + p_lose + p_push = 1, and a push returns the stake.

- edge = p_win / (p_win + p_lose) - no-vig market probability of that side (push excluded on
  both sides, as the no-vig price is)
- EV per unit staked = p_win * (d - 1) - p_lose  (= p * d - 1 without pushes)
- Kelly: maximise p_win log(1 + b f) + p_lose log(1 - f), b = d - 1:
  f* = (b p_win - p_lose) / (b (p_win + p_lose)), floored at 0, times the fraction.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]


def edge(p_win: npt.ArrayLike, p_lose: npt.ArrayLike, no_vig_prob: npt.ArrayLike) -> Array:
    """Push-excluded fair probability minus the no-vig market probability of the side."""
    w, lose = np.asarray(p_win, float), np.asarray(p_lose, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return w / (w + lose) - np.asarray(no_vig_prob, float)


def expected_value(p_win: npt.ArrayLike, p_lose: npt.ArrayLike, decimal_odds: npt.ArrayLike
                   ) -> Array:
    """Expected profit per unit staked (push refunds the stake)."""
    return np.asarray(p_win, float) * (np.asarray(decimal_odds, float) - 1) - np.asarray(
        p_lose, float)


def kelly(p_win: npt.ArrayLike, p_lose: npt.ArrayLike, decimal_odds: npt.ArrayLike,
          fraction: float = 1.0) -> Array:
    """Fractional Kelly stake (share of bankroll), 0 when the bet has no edge."""
    w, lose = np.asarray(p_win, float), np.asarray(p_lose, float)
    b = np.asarray(decimal_odds, float) - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        f = (b * w - lose) / (b * (w + lose))
    return fraction * np.where(np.isnan(f), np.nan, np.maximum(f, 0.0))
