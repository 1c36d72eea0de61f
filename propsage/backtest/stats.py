"""Small statistics the backtest reports: Wilson intervals, cluster bootstrap, paired tests."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats as st


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion ((nan, nan) when n = 0)."""
    if n <= 0:
        return (math.nan, math.nan)
    z = float(st.norm.ppf(0.5 + confidence / 2))
    p = successes / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (max(0.0, centre - half), min(1.0, centre + half))


def cluster_bootstrap_ratio(num: npt.ArrayLike, den: npt.ArrayLike, clusters: npt.ArrayLike, *,
                            reps: int = 2000, confidence: float = 0.95, seed: int = 0
                            ) -> tuple[float, float]:
    """Percentile CI of sum(num) / sum(den), resampling whole clusters (games) with replacement.

    Bets on one game share its outcome noise, so games, not bets, are the independent units.
    """
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    codes, uniq = _factorize(clusters)
    g = len(uniq)
    if g < 2:
        return (math.nan, math.nan)
    gnum = np.bincount(codes, num, minlength=g)
    gden = np.bincount(codes, den, minlength=g)
    rng = np.random.default_rng(seed)
    stats = np.empty(reps)
    step = max(1, 2_000_000 // g)
    for start in range(0, reps, step):
        k = min(step, reps - start)
        idx = rng.integers(0, g, size=(k, g))
        with np.errstate(invalid="ignore", divide="ignore"):
            stats[start:start + k] = gnum[idx].sum(axis=1) / gden[idx].sum(axis=1)
    lo, hi = np.nanpercentile(stats, [50 * (1 - confidence), 50 * (1 + confidence)])
    return (float(lo), float(hi))


def _factorize(values: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):   # codes are free
        codes, uniq = pd.factorize(np.asarray(pd.Series(values).cat.codes))
    else:
        codes, uniq = pd.factorize(np.asarray(values, dtype=object))
    return codes.astype(np.int64), np.asarray(uniq)


def clustered_mean(x: npt.ArrayLike, clusters: npt.ArrayLike | None = None
                   ) -> tuple[float, float]:
    """(mean, standard error) of x; the SE is cluster-robust when clusters are given."""
    x = np.asarray(x, dtype=float)
    n = len(x)
    if n == 0:
        return (math.nan, math.nan)
    mean = float(x.mean())
    if n < 2:
        return (mean, math.nan)
    if clusters is None:
        return (mean, float(x.std(ddof=1) / math.sqrt(n)))
    codes, uniq = _factorize(clusters)
    g = len(uniq)
    if g < 2:
        return (mean, math.nan)
    resid = np.bincount(codes, x - mean, minlength=g)
    var = g / (g - 1) * float(np.sum(resid**2)) / n**2
    return (mean, math.sqrt(var))


def paired_test(a: npt.ArrayLike, b: npt.ArrayLike, clusters: npt.ArrayLike | None = None
                ) -> dict[str, float]:
    """Mean of a - b with its (cluster-robust) SE, z statistic and two-sided p-value."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    mean, se = clustered_mean(d, clusters)
    z = mean / se if se and se > 0 else math.nan
    p = float(2 * st.norm.sf(abs(z))) if not math.isnan(z) else math.nan
    return {"mean_diff": mean, "se": se, "z": z, "p_value": p, "n": int(len(d))}


def log_loss(p: npt.ArrayLike, y: npt.ArrayLike, eps: float = 1e-12) -> npt.NDArray[np.float64]:
    """Per-item log loss -[y log p + (1 - y) log(1 - p)] (nats)."""
    p = np.clip(np.asarray(p, dtype=float), eps, 1 - eps)
    y = np.asarray(y, dtype=float)
    return -(y * np.log(p) + (1 - y) * np.log1p(-p))


def brier(p: npt.ArrayLike, y: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Per-item Brier score (p - y)^2."""
    return (np.asarray(p, dtype=float) - np.asarray(y, dtype=float)) ** 2
