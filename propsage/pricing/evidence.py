"""Evidence: bounded, weighted adjustments of a prior's mean and variance (injury, usage, ...).

Each item says how much it moves a player's mean and variance (relative deltas), how much we
trust it (``weight`` in [0, 1]) and how likely it is to apply (``prob``: a questionable player
may play limited minutes). Items combine additively in relative terms, each delta clipped to
``max_item`` and the sums clipped to ``max_total`` (the seed's applyEvidenceAdjustments, made
bounded). An item that applies with probability p < 1 is a two-point mixture; we keep the
family and match its first two moments (law of total variance):

    mean' = mean * (1 + sum_i w_i p_i d_i)
    var'  = var * (1 + sum_i w_i p_i v_i) + mean^2 * sum_i p_i (1 - p_i) (w_i d_i)^2

so the result stays in closed form. ``Evidence.market = None`` applies to every market of the
player (combos inherit it through their components).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

EVIDENCE_COLUMNS = ["player_id", "market", "kind", "mean_delta", "var_delta", "weight", "prob"]


@dataclass(frozen=True, slots=True)
class Evidence:
    """One piece of evidence about a player (relative deltas; see module docstring)."""

    player_id: str
    market: str | None = None
    kind: str = ""
    mean_delta: float = 0.0
    var_delta: float = 0.0
    weight: float = 1.0
    prob: float = 1.0


@dataclass(frozen=True, slots=True)
class EvidenceBounds:
    """Clipping limits of evidence deltas."""

    max_item: float = 0.5          # one item moves the mean by at most +-50 %
    max_total: float = 0.35        # all items together by at most +-35 %
    max_var_up: float = 1.0        # variance at most doubled ...
    max_var_down: float = 0.5      # ... or halved


def evidence_frame(evidence: Iterable[Evidence] | pd.DataFrame | None) -> pd.DataFrame:
    """Evidence as a frame with ``EVIDENCE_COLUMNS`` (market '' = every market)."""
    if evidence is None:
        return pd.DataFrame({c: [] for c in EVIDENCE_COLUMNS})
    df = evidence.copy() if isinstance(evidence, pd.DataFrame) else pd.DataFrame(
        [asdict(e) for e in evidence], columns=EVIDENCE_COLUMNS)
    defaults = {"market": "", "kind": "", "mean_delta": 0.0, "var_delta": 0.0, "weight": 1.0,
                "prob": 1.0}
    for col, val in defaults.items():
        df[col] = df[col].fillna(val) if col in df else val
    df["market"] = df["market"].astype(object).where(df["market"].notna(), "").astype(str)
    return df[EVIDENCE_COLUMNS]


def evidence_deltas(player_id: npt.ArrayLike, market: npt.ArrayLike,
                    evidence: Iterable[Evidence] | pd.DataFrame | None,
                    bounds: EvidenceBounds | None = None
                    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64],
                               npt.NDArray[np.float64]]:
    """Per row (relative mean delta, relative variance delta, mixture variance / mean^2)."""
    bounds = bounds or EvidenceBounds()
    n = len(np.asarray(player_id))
    zeros = (np.zeros(n), np.zeros(n), np.zeros(n))
    ev = evidence_frame(evidence)
    if ev.empty or n == 0:
        return zeros
    w = ev["weight"].clip(0, 1).to_numpy(float)
    p = ev["prob"].clip(0, 1).to_numpy(float)
    d = ev["mean_delta"].clip(-bounds.max_item, bounds.max_item).to_numpy(float)
    v = ev["var_delta"].clip(-bounds.max_var_down, bounds.max_var_up).to_numpy(float)
    ev = ev.assign(dm=w * p * d, dv=w * p * v, mix=p * (1 - p) * (w * d) ** 2)
    rows = pd.DataFrame({"player_id": np.asarray(player_id, dtype=object),
                         "market": np.asarray(market, dtype=object), "row": np.arange(n)})
    specific = rows.merge(ev[ev["market"] != ""], on=["player_id", "market"])
    general = rows.merge(ev[ev["market"] == ""].drop(columns="market"), on="player_id")
    both = pd.concat([specific, general], ignore_index=True)
    if both.empty:
        return zeros
    s = both.groupby("row")[["dm", "dv", "mix"]].sum().reindex(range(n), fill_value=0.0)
    dm = s["dm"].clip(-bounds.max_total, bounds.max_total).to_numpy(float)
    dv = s["dv"].clip(-bounds.max_var_down, bounds.max_var_up).to_numpy(float)
    return dm, dv, s["mix"].to_numpy(float)


def apply_evidence(mean: npt.ArrayLike, var: npt.ArrayLike, deltas: tuple[np.ndarray, ...]
                   ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Adjusted (mean, var) from ``evidence_deltas`` output (see module docstring)."""
    mean = np.asarray(mean, dtype=float)
    var = np.asarray(var, dtype=float)
    dm, dv, mix = deltas
    return mean * (1 + dm), var * (1 + dv) + mean**2 * mix
