"""Outcome distributions of one player-market: exact probabilities at lines and quantiles.

A distribution is described by moments, one row per player-market: ``family`` (see
``propsage.pricing.markets.FAMILIES``), ``mean``, ``var`` and ``zero_prob`` (an extra point mass
at zero: a hurdle for gamma, zero inflation for counts; 0 when unused). ``mean``/``var`` are
those of the base distribution (before the zero mass is mixed in). Natural parameters:

- normal: loc = mean, sd = sqrt(var)
- gamma: shape k = mean^2 / var, scale = var / mean
- negbin: size r = mean^2 / (var - mean), p = r / (r + mean); Poisson when var <= mean
- poisson: mean (var ignored); bernoulli: P(X = 1) = mean (var ignored)

Every stat is integer-valued, so continuous models (normal, gamma) are read as the law of
round(X): at an integer line L, P(push) = P(L - 0.5 <= X < L + 0.5); at a half line no push.
For counts, P(push) = P(X = L). A missing line (anytime TD "Yes") is read as 0.5.

Public, vectorised, row-aligned with ``lines``:
    prob_over_under_push(params, lines) -> (p_over, p_under, p_push)
    quantile(params, q) -> array;  quantiles(params, qs) -> (rows, len(qs)) array
    count_grid(family, mean, var, zero_prob) -> Grid  (exact pmf on integers; quantiles)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special as sp

from propsage.pricing.markets import FAMILY_CODE

NORMAL, GAMMA, NEGBIN, POISSON, BERNOULLI = (FAMILY_CODE[f] for f in (
    "normal", "gamma", "negbin", "poisson", "bernoulli"))
Array = npt.NDArray[np.float64]
_TINY = 1e-12


def family_codes(family: Any) -> npt.NDArray[np.int8]:
    """Integer family codes of family names (array-like of str)."""
    names = pd.Series(np.asarray(family, dtype=object).ravel())
    codes = names.map(FAMILY_CODE)
    if codes.isna().any():
        bad = sorted(set(names[codes.isna()].astype(str)))
        raise ValueError(f"unknown distribution family: {bad}")
    return codes.to_numpy(np.int8)


def _columns(params: pd.DataFrame | Mapping[str, Any]) -> tuple[np.ndarray, Array, Array, Array]:
    fam = params["family"]
    code = family_codes(fam) if not np.issubdtype(np.asarray(fam).dtype, np.integer) \
        else np.asarray(fam, dtype=np.int8)
    n = len(code)
    mean = np.asarray(params["mean"], dtype=float)
    var = np.asarray(params["var"], dtype=float) if "var" in params else np.full(n, np.nan)
    zero = np.asarray(params["zero_prob"], dtype=float) if "zero_prob" in params else np.zeros(n)
    return code, mean, var, np.nan_to_num(zero, nan=0.0)


def _is_poisson(code: np.ndarray, mean: Array, var: Array) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (code == POISSON) | ((code == NEGBIN) & ~(var > mean * (1 + 1e-9)))


def _nb_rp(mean: Array, var: Array) -> tuple[Array, Array]:
    with np.errstate(divide="ignore", invalid="ignore"):
        r = mean**2 / (var - mean)
        p = r / (r + mean)
    return r, p


# --- continuous: P(X < t) and P(X >= t) ----------------------------------------------------

def _cont_below(code: np.ndarray, mean: Array, var: Array, zero: Array, t: Array) -> Array:
    """P(X < t) for normal / gamma (gamma: base on (0, inf) plus mass ``zero`` at 0)."""
    out = np.full(t.shape, np.nan)
    m = code == NORMAL
    if m.any():
        out[m] = sp.ndtr((t[m] - mean[m]) / np.sqrt(var[m]))
    g = code == GAMMA
    if g.any():
        k = mean[g] ** 2 / var[g]
        x = np.maximum(t[g], 0.0) * mean[g] / var[g]
        out[g] = np.where(t[g] > 0, zero[g] + (1 - zero[g]) * sp.gammainc(k, x), 0.0)
    return out


def _cont_at_least(code: np.ndarray, mean: Array, var: Array, zero: Array, t: Array) -> Array:
    """P(X >= t) for normal / gamma, computed on the upper tail for accuracy."""
    out = np.full(t.shape, np.nan)
    m = code == NORMAL
    if m.any():
        out[m] = sp.ndtr((mean[m] - t[m]) / np.sqrt(var[m]))
    g = code == GAMMA
    if g.any():
        k = mean[g] ** 2 / var[g]
        x = np.maximum(t[g], 0.0) * mean[g] / var[g]
        out[g] = np.where(t[g] > 0, (1 - zero[g]) * sp.gammaincc(k, x), 1.0)
    return out


# --- discrete: P(X <= k) and P(X > k) for integer k -----------------------------------------

def _disc_cdf(code: np.ndarray, mean: Array, var: Array, zero: Array, k: Array) -> Array:
    """P(X <= k) for negbin / poisson / bernoulli at integer k."""
    out = np.full(k.shape, np.nan)
    kk = np.maximum(k, 0.0)
    pois = _is_poisson(code, mean, var)
    if pois.any():
        out[pois] = sp.gammaincc(kk[pois] + 1, mean[pois])
    nb = (code == NEGBIN) & ~pois
    if nb.any():
        r, p = _nb_rp(mean[nb], var[nb])
        out[nb] = sp.betainc(r, kk[nb] + 1, p)
    b = code == BERNOULLI
    if b.any():
        out[b] = np.where(k[b] >= 1, 1.0, 1 - mean[b])
    disc = pois | nb
    out[disc] = zero[disc] + (1 - zero[disc]) * out[disc]
    return np.where(k < 0, 0.0, out)


def _disc_sf(code: np.ndarray, mean: Array, var: Array, zero: Array, k: Array) -> Array:
    """P(X > k) for negbin / poisson / bernoulli at integer k (upper-tail functions)."""
    out = np.full(k.shape, np.nan)
    kk = np.maximum(k, 0.0)
    pois = _is_poisson(code, mean, var)
    if pois.any():
        out[pois] = sp.gammainc(kk[pois] + 1, mean[pois])
    nb = (code == NEGBIN) & ~pois
    if nb.any():
        r, p = _nb_rp(mean[nb], var[nb])
        out[nb] = sp.betainc(kk[nb] + 1, r, 1 - p)
    b = code == BERNOULLI
    if b.any():
        out[b] = np.where(k[b] >= 1, 0.0, mean[b])
    disc = pois | nb
    out[disc] = (1 - zero[disc]) * out[disc]
    return np.where(k < 0, 1.0, out)


def over_under_push_arrays(code: np.ndarray, mean: Array, var: Array, zero: Array,
                           line: Array) -> tuple[Array, Array, Array]:
    """(P(over), P(under), P(push)) at ``line`` for arrays of family codes and moments."""
    line = np.where(np.isnan(line) & (code == BERNOULLI), 0.5, np.asarray(line, dtype=float))
    lo, hi = np.floor(line), np.ceil(line)
    over = np.full(line.shape, np.nan)
    under = np.full(line.shape, np.nan)
    cont = (code == NORMAL) | (code == GAMMA)
    if cont.any():
        a = (code[cont], mean[cont], var[cont], zero[cont])
        over[cont] = _cont_at_least(*a, lo[cont] + 0.5)
        under[cont] = _cont_below(*a, hi[cont] - 0.5)
    disc = ~cont
    if disc.any():
        a = (code[disc], mean[disc], var[disc], zero[disc])
        over[disc] = _disc_sf(*a, lo[disc])
        under[disc] = _disc_cdf(*a, hi[disc] - 1)
    push = np.where(lo == hi, np.clip(1.0 - over - under, 0.0, 1.0), 0.0)
    push = np.where(np.isnan(over), np.nan, push)
    return over, under, push


def prob_over_under_push(params: pd.DataFrame | Mapping[str, Any],
                         lines: npt.ArrayLike) -> tuple[Array, Array, Array]:
    """Exact (P(over), P(under), P(push)) of each params row at the line in the same position.

    ``params`` has columns family, mean, var and optionally zero_prob (e.g. the output of
    ``fit_market`` or ``price_board(...).params``); ``lines`` is aligned with its rows.
    """
    code, mean, var, zero = _columns(params)
    line = np.broadcast_to(np.asarray(lines, dtype=float), code.shape).copy()
    return over_under_push_arrays(code, mean, var, zero, line)


# --- exact integer grids (quantiles of counts, Monte Carlo components) ------------------------

@dataclass(slots=True)
class Grid:
    """Per row, the pmf of an integer outcome on lo, lo + 1, ..., lo + K - 1 (tails folded in)."""

    lo: npt.NDArray[np.int64]
    pmf: Array

    def cdf(self) -> Array:
        """P(X <= lo + j), the last column forced to 1."""
        c = np.cumsum(self.pmf, axis=1)
        c[:, -1] = 1.0
        return c

    def over_under_push(self, lines: Array, rows: npt.NDArray[np.int64] | None = None
                        ) -> tuple[Array, Array, Array]:
        """(P(over), P(under), P(push)) of row ``rows[i]`` at ``lines[i]``."""
        rows = np.arange(len(self.lo)) if rows is None else rows
        cdf = self.cdf()
        k_max = cdf.shape[1] - 1

        def f(k: Array) -> Array:  # P(X <= k)
            j = k - self.lo[rows]
            val = cdf[rows, np.clip(j, 0, k_max).astype(np.int64)]
            return np.where(j < 0, 0.0, np.where(j > k_max, 1.0, val))

        lo, hi = np.floor(lines), np.ceil(lines)
        over = 1.0 - f(lo)
        under = f(hi - 1)
        push = np.where(lo == hi, np.clip(1.0 - over - under, 0.0, 1.0), 0.0)
        return over, under, push

    def quantile(self, q: float) -> Array:
        """Continuity-corrected quantile: that of X + U(-1/2, 1/2) (so a 50/50 line reads x.5)."""
        cdf = self.cdf()
        j = np.minimum((cdf < q).sum(axis=1), cdf.shape[1] - 1)
        rows = np.arange(len(j))
        below = np.where(j > 0, cdf[rows, np.maximum(j - 1, 0)], 0.0)
        mass = np.maximum(self.pmf[rows, j], _TINY)
        x = self.lo + j - 0.5 + np.clip((q - below) / mass, 0.0, 1.0)
        return np.maximum(x, self.lo)     # e.g. no negative quantile for counts

    def mean(self) -> Array:
        """Mean of each row."""
        k = np.arange(self.pmf.shape[1])
        return self.lo + (self.pmf * k).sum(axis=1) / self.pmf.sum(axis=1)


def _grid_bounds(code: np.ndarray, mean: Array, var: Array, per_row: bool = False
                 ) -> tuple[np.ndarray, Any]:
    """Grid start per row and the width (the widest row's, or each row's with per_row)."""
    sd = np.sqrt(np.where(_is_poisson(code, mean, var) | (code == BERNOULLI), mean, var))
    sd = np.nan_to_num(sd, nan=1.0)
    lo = np.where(code == NORMAL, np.floor(mean - 9 * sd), 0.0).astype(np.int64)
    hi = np.ceil(mean + 10 * sd + 12).astype(np.int64)
    hi = np.where(code == BERNOULLI, 1, hi)
    width = np.maximum(hi - lo + 1, 2)
    return lo, (width if per_row else int(width.max()))


def count_grid(family: Any, mean: npt.ArrayLike, var: npt.ArrayLike,
               zero_prob: npt.ArrayLike | None = None) -> Grid:
    """Exact pmf on the integers of each row (continuous families read as round(X))."""
    code = family_codes(family) if not np.issubdtype(np.asarray(family).dtype, np.integer) \
        else np.asarray(family, dtype=np.int8)
    mean = np.asarray(mean, dtype=float)
    var = np.asarray(var, dtype=float)
    zero = np.zeros(len(code)) if zero_prob is None else np.nan_to_num(
        np.asarray(zero_prob, dtype=float), nan=0.0)
    lo, width = _grid_bounds(code, mean, var)
    k = lo[:, None] + np.arange(width)[None, :]
    pmf = np.zeros(k.shape)
    pois = _is_poisson(code, mean, var)
    nb = (code == NEGBIN) & ~pois
    if pois.any():
        mu = mean[pois][:, None]
        kk = k[pois]
        pmf[pois] = np.exp(kk * np.log(np.maximum(mu, _TINY)) - mu - sp.gammaln(kk + 1))
    if nb.any():
        r, p = _nb_rp(mean[nb], var[nb])
        r, p = r[:, None], p[:, None]
        kk = k[nb]
        pmf[nb] = np.exp(sp.gammaln(kk + r) - sp.gammaln(r) - sp.gammaln(kk + 1)
                         + r * np.log(p) + kk * np.log1p(-p))
    b = code == BERNOULLI
    if b.any():
        pmf[b, 0] = 1 - mean[b]
        pmf[b, 1] = mean[b]
    cont = (code == NORMAL) | (code == GAMMA)
    if cont.any():
        n = int(cont.sum())
        edges = np.concatenate([k[cont] - 0.5, k[cont][:, -1:] + 0.5], axis=1)
        rep = edges.shape[1]
        args = [np.repeat(a[cont], rep) for a in (code, mean, var, zero)]
        below = _cont_below(*args, edges.ravel()).reshape(n, rep)
        pmf[cont] = np.diff(below, axis=1)
        pmf[cont, 0] += below[:, 0]        # mass below the grid folds into its first point
    zi = (pois | nb) & (zero > 0)
    if zi.any():
        pmf[zi] *= (1 - zero[zi])[:, None]
        pmf[zi, 0] += zero[zi]
    return Grid(lo=lo, pmf=pmf)


def quantiles(params: pd.DataFrame | Mapping[str, Any], qs: Sequence[float]) -> Array:
    """Quantiles ``qs`` of each row, shape (rows, len(qs)): closed form for normal/gamma,
    continuity-corrected (``Grid.quantile``) for counts, NaN for Bernoulli rows."""
    code, mean, var, zero = _columns(params)
    out = np.full((len(code), len(qs)), np.nan)
    m = code == NORMAL
    g = code == GAMMA
    d = np.flatnonzero((code == NEGBIN) | (code == POISSON))
    if len(d):
        # Rows in buckets of similar grid width: a threes grid need not be as wide as points'.
        _, width = _grid_bounds(code[d], mean[d], var[d], per_row=True)
        bucket = np.ceil(np.log2(np.maximum(width, 8))).astype(int)
        for b in np.unique(bucket):
            rows = d[bucket == b]
            grid = count_grid(code[rows], mean[rows], var[rows], zero[rows])
            for j, q in enumerate(qs):
                out[rows, j] = grid.quantile(q)
    for j, q in enumerate(qs):
        if m.any():
            out[m, j] = mean[m] + np.sqrt(var[m]) * sp.ndtri(q)
        if g.any():
            z = zero[g]
            qq = np.clip((q - z) / np.maximum(1 - z, _TINY), 0.0, 1.0)
            x = var[g] / mean[g] * sp.gammaincinv(mean[g] ** 2 / var[g], qq)
            out[g, j] = np.where(q <= z, 0.0, x)
    return out


def quantile(params: pd.DataFrame | Mapping[str, Any], q: float) -> Array:
    """Quantile ``q`` of each row (see ``quantiles``)."""
    return quantiles(params, [q])[:, 0]


# --- shape <-> variance (the parameter held fixed while the mean moves) ----------------------

def var_from_shape(code: np.ndarray, mean: Array, shape: Array) -> Array:
    """Variance from mean and shape: normal sd, gamma k, negbin r (poisson/bernoulli: none)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        var = np.select(
            [code == NORMAL, code == GAMMA, code == NEGBIN],
            [shape**2, mean**2 / shape, mean + mean**2 / shape],
            default=mean,
        )
    nb_inf = (code == NEGBIN) & ~np.isfinite(shape)
    return np.where(nb_inf, mean, np.where(code == BERNOULLI, mean * (1 - mean), var))


def shape_from_var(code: np.ndarray, mean: Array, var: Array) -> Array:
    """The shape held fixed by ``var_from_shape`` (negbin: inf when var <= mean)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(var > mean, mean**2 / (var - mean), np.inf)
        return np.select([code == NORMAL, code == GAMMA, code == NEGBIN],
                         [np.sqrt(var), mean**2 / var, r], default=np.nan)
