"""Market context (the seed's phase 3): confidence, agreement bonus, movement penalty, blend.

- Base confidence = n_eff / (n_eff + ``half_confidence_games``): how much history the model has
  (0 without a prior).
- Agreement of the books = 1 - (sd of the quotes' implied means) / (``agreement_scale`` x the
  outcome's sd), clipped to [0, 1]; NaN with fewer than two quotes. The seed's bonus: +0.10 when
  agreement > 0.8.
- The seed's movement penalty: -0.05 per significant (line move >= ``significant_move``) move
  of that player-market in the last ``movement_window_minutes``.
- confidence = clip(base + bonus - penalty, 0, 1).
- Blend (seed's blendFairValues, on the distribution's mean rather than on a line):
  fair mean = w * model mean + (1 - w) * market mean, w = ``max_model_weight`` x confidence.
  The seed used w = confidence; the cap is ours because markets are hard to beat (the real-data
  evaluation in docs/pricing.md chose it on the first half of the season).
The seed's "vig removal" avg / (avg + (1 - avg)) is the identity and has no counterpart here:
each quote is de-vigged properly before it is read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

Array = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ContextSettings:
    """Knobs of the market context (see module docstring)."""

    half_confidence_games: float = 10.0
    agreement_threshold: float = 0.8
    agreement_bonus: float = 0.10
    agreement_scale: float = 0.25
    movement_penalty: float = 0.05
    significant_move: float = 1.0
    movement_window_minutes: float = 30.0
    max_model_weight: float = 0.2


def agreement(mean_sd: npt.ArrayLike, outcome_sd: npt.ArrayLike, n_quotes: npt.ArrayLike,
              settings: ContextSettings | None = None) -> Array:
    """Books' agreement in [0, 1] (NaN with fewer than two quotes)."""
    s = settings or ContextSettings()
    with np.errstate(divide="ignore", invalid="ignore"):
        a = 1.0 - np.asarray(mean_sd, float) / (s.agreement_scale * np.asarray(outcome_sd, float))
    return np.where(np.asarray(n_quotes) >= 2, np.clip(a, 0.0, 1.0), np.nan)


def recent_moves(keys: pd.DataFrame, movements: pd.DataFrame | None, now: pd.Timestamp | None,
                 settings: ContextSettings | None = None) -> npt.NDArray[np.int64]:
    """Significant line moves per row of ``keys`` (game_id, player_id, market) in the window.

    ``movements`` has the columns of ``propsage.changes.movements`` (game_id, player_id, market,
    kind, movement_size, timestamp).
    """
    s = settings or ContextSettings()
    if movements is None or movements.empty or now is None:
        return np.zeros(len(keys), dtype=np.int64)
    m = movements
    ts = pd.to_datetime(m["timestamp"], utc=True)
    sig = (m["movement_size"].astype(float).abs() >= s.significant_move) \
        & (ts >= now - pd.Timedelta(minutes=s.movement_window_minutes)) & (ts <= now)
    if "kind" in m:
        sig &= m["kind"].astype(str) == "line"
    counts = m[sig].groupby(["game_id", "player_id", "market"]).size()
    if counts.empty:
        return np.zeros(len(keys), dtype=np.int64)
    idx = pd.MultiIndex.from_frame(keys[["game_id", "player_id", "market"]].astype(str))
    return counts.reindex(idx, fill_value=0).to_numpy(np.int64)


def confidence(n_eff: npt.ArrayLike, agree: npt.ArrayLike, moves: npt.ArrayLike,
               settings: ContextSettings | None = None) -> Array:
    """Confidence score in [0, 1] (see module docstring)."""
    s = settings or ContextSettings()
    n = np.nan_to_num(np.asarray(n_eff, float), nan=0.0)
    base = n / (n + s.half_confidence_games)
    with np.errstate(invalid="ignore"):
        bonus = np.where(np.asarray(agree, float) > s.agreement_threshold, s.agreement_bonus, 0.0)
    return np.clip(base + bonus - s.movement_penalty * np.asarray(moves, float), 0.0, 1.0)


def blend(model_mean: npt.ArrayLike, market_mean: npt.ArrayLike, conf: npt.ArrayLike,
          settings: ContextSettings | None = None) -> tuple[Array, Array]:
    """(fair mean, model weight): the weighted blend, or whichever side exists."""
    s = settings or ContextSettings()
    model = np.asarray(model_mean, float)
    market = np.asarray(market_mean, float)
    w = s.max_model_weight * np.asarray(conf, float)
    w = np.where(np.isnan(market), 1.0, np.where(np.isnan(model), 0.0, w))
    fair = np.where(w == 1.0, model, np.where(w == 0.0, market, w * model + (1 - w) * market))
    return fair, w
