"""Outcome distributions for line-aware comparisons: a pluggable survival function.

Books quote one player-market on different lines; to compare them we need P(over) at a common
line. A ``ProbFn`` supplies it: ``prob_fn(anchors, x) -> P(X > x)`` per row, where ``anchors``
has columns ``market``, ``league``, ``game_id``, ``player_id``, ``line`` (the *threshold* the
over side must beat: the line, or minus the home point for spreads) and ``prob`` (a no-vig
P(over) observed at that threshold). A market-implied model fits its distribution to the anchor;
a model with its own view (the pricing engine) may ignore the anchor. NaN means "no model for
this row" and callers fall back to comparing quotes on the nearest common line only.

Outcomes are integer valued (yards, counts, margins, totals), so callers evaluate the survival
at half-integers: P(X > y) = S(floor(y) + 0.5), P(X >= y) = S(ceil(y) - 0.5), and for a
continuous model that is the usual continuity correction.

``NormalApprox`` is the fallback when the pricing engine is absent: a normal around the anchor
with a per-market scale (constant, proportional to the line, or Poisson-like sqrt(phi * line)).
Its location is ``line + sigma * Phi^-1(prob)`` (exact for half-point lines; for whole-number
lines, whose no-vig price excludes the push, exact at 50/50 and close elsewhere).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

ProbFn = Callable[[pd.DataFrame, np.ndarray], np.ndarray]

# (kind, parameter): 'const' sigma, 'cv' sigma = c * line, 'count' sigma = sqrt(phi * line).
# Rough league-wide scales (a fallback, not a model): NFL/NBA margin and total SDs as commonly
# quoted, Poisson-like counts with over-dispersion, yards with a coefficient of variation.
MARKET_SCALES: dict[str, tuple[str, float]] = {
    "spreads": ("const", 13.5),
    "totals": ("const", 13.5),
    "player_pass_yds": ("cv", 0.27),
    "player_rush_yds": ("cv", 0.60),
    "player_reception_yds": ("cv", 0.65),
    "player_receptions": ("count", 1.2),
    "player_rush_attempts": ("count", 1.3),
    "player_pass_attempts": ("count", 1.2),
    "player_pass_completions": ("count", 1.2),
    "player_pass_tds": ("count", 1.0),
    "player_rush_tds": ("count", 1.0),
    "player_points": ("count", 2.5),
    "player_rebounds": ("count", 1.5),
    "player_assists": ("count", 1.5),
    "player_threes": ("count", 1.3),
    "player_points_rebounds_assists": ("count", 2.8),
    "batter_hits": ("count", 1.0),
    "batter_total_bases": ("count", 2.0),
    "pitcher_strikeouts": ("count", 1.3),
}
LEAGUE_SCALES: dict[tuple[str, str], tuple[str, float]] = {
    ("nba", "spreads"): ("const", 12.5),
    ("nba", "totals"): ("const", 18.0),
    ("cfb", "spreads"): ("const", 16.0),
    ("cfb", "totals"): ("const", 16.0),
}


@dataclass(slots=True)
class NormalApprox:
    """Market-implied normal survival around each anchor (the fallback ``ProbFn``)."""

    scales: dict[str, tuple[str, float]] = field(default_factory=lambda: dict(MARKET_SCALES))
    league_scales: dict[tuple[str, str], tuple[str, float]] = field(
        default_factory=lambda: dict(LEAGUE_SCALES))
    min_level: float = 0.5  # floor for the line in 'cv'/'count' scales

    def scale_params(self, market: np.ndarray, league: np.ndarray) -> tuple[np.ndarray,
                                                                             np.ndarray]:
        """Per row (kind, parameter): kind 0 unknown, 1 constant, 2 cv * line, 3 sqrt(phi*line).

        Callers that evaluate many anchors of one board may compute these once and pass them
        as anchor columns ``scale_kind`` / ``scale_par``.
        """
        market = np.asarray(market, dtype=object)
        mc, markets = pd.factorize(market)
        names = {"const": 1, "cv": 2, "count": 3}
        m_kind = np.zeros(len(markets), dtype=np.int64)
        m_par = np.full(len(markets), np.nan)
        for i, mk in enumerate(markets):
            if mk in self.scales:
                m_kind[i], m_par[i] = names[self.scales[mk][0]], self.scales[mk][1]
        kind, par = m_kind[mc], m_par[mc]
        # League overrides (game lines) only touch their markets' rows.
        for (lg, mk), (k, a) in self.league_scales.items():
            hit = np.flatnonzero(markets == mk)
            if len(hit):
                rows = mc == hit[0]
                rows &= np.asarray(league, dtype=object) == lg
                kind[rows], par[rows] = names[k], a
        return kind, par

    def sigma_from(self, kind: np.ndarray, par: np.ndarray, line: np.ndarray) -> np.ndarray:
        """Scale per row from ``scale_params``; NaN for unknown markets."""
        level = np.maximum(np.abs(np.asarray(line, dtype=float)), self.min_level)
        return np.select([kind == 1, kind == 2, kind == 3],
                         [par, par * level, np.sqrt(par * level)], np.nan)

    def sigma(self, market: np.ndarray, league: np.ndarray, line: np.ndarray) -> np.ndarray:
        """Scale per row; NaN for markets without a known scale."""
        return self.sigma_from(*self.scale_params(market, league), line)

    def __call__(self, anchors: pd.DataFrame, x: np.ndarray) -> np.ndarray:
        """P(X > x) under a normal through each anchor (line, prob)."""
        line = anchors["line"].to_numpy(dtype=float)
        prob = np.clip(anchors["prob"].to_numpy(dtype=float), 1e-6, 1 - 1e-6)
        if "scale_kind" in anchors:
            sig = self.sigma_from(anchors["scale_kind"].to_numpy(),
                                  anchors["scale_par"].to_numpy(float), line)
        else:
            league = anchors["league"] if "league" in anchors else pd.Series(
                "", index=anchors.index)
            sig = self.sigma(anchors["market"].to_numpy(), league.fillna("").to_numpy(), line)
        mu = line + sig * ndtri(prob)
        return ndtr((mu - np.asarray(x, dtype=float)) / sig)


def survival_over(prob_fn: ProbFn, anchors: pd.DataFrame, y: np.ndarray) -> np.ndarray:
    """P(X > y) for integer-valued X."""
    return prob_fn(anchors, np.floor(np.asarray(y, dtype=float)) + 0.5)


def survival_at_least(prob_fn: ProbFn, anchors: pd.DataFrame, y: np.ndarray) -> np.ndarray:
    """P(X >= y) for integer-valued X."""
    return prob_fn(anchors, np.ceil(np.asarray(y, dtype=float)) - 0.5)


def no_push_over(prob_fn: ProbFn, anchors: pd.DataFrame, y: np.ndarray) -> np.ndarray:
    """P(over y) with a push on a whole-number y taken out, as a no-vig price states it."""
    over = survival_over(prob_fn, anchors, y)
    under = 1.0 - survival_at_least(prob_fn, anchors, y)
    with np.errstate(invalid="ignore", divide="ignore"):
        return over / (over + under)


def same_line_only(anchors: pd.DataFrame, x: np.ndarray) -> np.ndarray:
    """A ``ProbFn`` with no model: quotes are compared on their common line only."""
    return np.full(len(anchors), np.nan)
