"""The market's own view: no-vig probabilities and the distribution each quote implies.

Each book's two-sided quote is de-vigged (``propsage.odds.no_vig_two_way``) and inverted: with
the distribution's shape held fixed (sd, gamma k or negbin r; from the player's prior when
known, else the market default), find the mean whose P(over) / (P(over) + P(under)) equals the
no-vig over probability at that line. Closed form at half lines (``ndtri``, ``gammaincinv``,
``betaincinv``, ``gammainccinv``), vectorised bisection at integer lines (push excluded).
Per player-market the consensus is the book-weighted mean of the quotes' implied means.

    no_vig(offers, method="multiplicative") -> (p_over, p_under)       NaN when one-sided
    implied_mean(family, shape, zero_prob, line, p_over) -> mean        per quote
    fit_market(offers, shapes=None, ...) -> DataFrame indexed (game_id, player_id, market):
        family, mean, var, zero_prob, shape, n_quotes, n_books, mean_sd, consensus_line
    Spreads are fitted on the home margin (line -> -line); h2h as Bernoulli(P(home wins)).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special as sp

from propsage.domain import outcome_threshold
from propsage.odds import american_or_nan, no_vig_two_way
from propsage.pricing import distributions as dist
from propsage.pricing.markets import FAMILY_CODE, GAME_SD, MarketTable

Array = npt.NDArray[np.float64]
PM_KEYS = ["game_id", "player_id", "market"]
_EPS = 1e-9


valid_american = american_or_nan  # anything that is not valid odds -> NaN


def no_vig(offers: pd.DataFrame, method: str = "multiplicative") -> tuple[Array, Array]:
    """No-vig (P(over), P(under)) of each row's two-sided quote; NaN when one-sided."""
    over = valid_american(offers["over_price"].to_numpy(dtype=float, na_value=np.nan))
    under = valid_american(offers["under_price"].to_numpy(dtype=float, na_value=np.nan))
    both = ~np.isnan(over) & ~np.isnan(under)
    p_over = np.full(len(over), np.nan)
    p_under = np.full(len(over), np.nan)
    if both.any():
        po, pu = no_vig_two_way(over[both], under[both], method=method)
        p_over[both], p_under[both] = po, pu
    return p_over, p_under


def effective_line(market: npt.ArrayLike, line: npt.ArrayLike) -> Array:
    """The threshold on the modelled outcome: spreads model the home margin, so -line."""
    return outcome_threshold(market, line)


def _closed_form_mean(code: np.ndarray, shape: Array, zero: Array, line: Array,
                      p_over: Array) -> Array:
    """Implied mean at non-integer lines (no push), one closed form per family."""
    f_under = 1.0 - p_over
    out = np.full(line.shape, np.nan)
    m = code == dist.NORMAL
    if m.any():
        out[m] = np.ceil(line[m]) - 0.5 - shape[m] * sp.ndtri(f_under[m])
    base = np.clip((f_under - zero) / np.maximum(1 - zero, _EPS), 1e-9, 1 - 1e-9)
    g = code == dist.GAMMA
    if g.any():
        t = np.maximum(np.ceil(line[g]) - 0.5, 0.5)
        out[g] = shape[g] * t / sp.gammaincinv(shape[g], base[g])
    k = np.maximum(np.ceil(line) - 1, 0.0)
    pois = (code == dist.POISSON) | ((code == dist.NEGBIN) & ~np.isfinite(shape))
    if pois.any():
        out[pois] = sp.gammainccinv(k[pois] + 1, base[pois])
    nb = (code == dist.NEGBIN) & np.isfinite(shape)
    if nb.any():
        p = sp.betaincinv(shape[nb], k[nb] + 1, base[nb])
        out[nb] = shape[nb] * (1 - p) / p
    b = code == dist.BERNOULLI
    out[b] = p_over[b]
    return out


def _bisect_mean(code: np.ndarray, shape: Array, zero: Array, line: Array, p_over: Array,
                 iterations: int = 60) -> Array:
    """Implied mean where P(over) / (1 - P(push)) = p_over, by vectorised bisection."""
    normal = code == dist.NORMAL
    scale = np.where(normal, shape, np.sqrt(np.abs(line) + 1.0))
    lo = np.where(normal, line - 12 * scale, 1e-6)
    hi = np.where(normal, line + 12 * scale, 3 * np.abs(line) + 30 * scale + 10)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        var = dist.var_from_shape(code, mid, shape)
        over, under, _ = dist.over_under_push_arrays(code, mid, var, zero, line)
        cond = over / np.maximum(over + under, 1e-300)
        up = cond < p_over           # P(over) rises with the mean
        lo = np.where(up, mid, lo)
        hi = np.where(up, hi, mid)
    return 0.5 * (lo + hi)


def implied_mean(family: Any, shape: npt.ArrayLike, zero_prob: npt.ArrayLike,
                 line: npt.ArrayLike, p_over: npt.ArrayLike) -> Array:
    """Mean of the distribution (shape fixed) whose push-excluded P(over) at ``line`` is p_over."""
    code = family if np.issubdtype(np.asarray(family).dtype, np.integer) \
        else dist.family_codes(family)
    code = np.asarray(code, dtype=np.int8)
    shape, zero, line, p = (np.broadcast_to(np.asarray(a, dtype=float), code.shape).copy()
                            for a in (shape, zero_prob, line, p_over))
    p = np.clip(p, 1e-6, 1 - 1e-6)
    zero = np.nan_to_num(zero, nan=0.0)
    out = np.full(code.shape, np.nan)
    ok = ~np.isnan(p) & (~np.isnan(line) | (code == dist.BERNOULLI))
    line = np.where(np.isnan(line), 0.5, line)
    integer = ok & (line == np.round(line)) & (code != dist.BERNOULLI)
    half = ok & ~integer
    if half.any():
        out[half] = _closed_form_mean(code[half], shape[half], zero[half], line[half], p[half])
    if integer.any():
        out[integer] = _bisect_mean(code[integer], shape[integer], zero[integer],
                                    line[integer], p[integer])
    return out


def default_shapes(market: npt.ArrayLike, league: npt.ArrayLike,
                   markets: MarketTable | None = None) -> tuple[np.ndarray, Array]:
    """(closed family code, default shape) per row from the market table and league."""
    markets = markets or MarketTable()
    mk = pd.Series(np.asarray(market, dtype=object))
    lg = pd.Series(np.asarray(league, dtype=object)).fillna("").astype(str)
    codes, uniq = pd.MultiIndex.from_arrays([mk, lg]).factorize()
    fam = np.empty(len(uniq), dtype=np.int8)
    shp = np.empty(len(uniq))
    for i, (m, lgv) in enumerate(uniq):
        spec = markets.spec(str(m))
        fam[i] = FAMILY_CODE[spec.closed_family]
        shp[i] = GAME_SD[m].get(lgv, GAME_SD[m]["nfl"]) if m in GAME_SD else spec.shape
    return fam[codes], shp[codes]


def consensus(pm: npt.NDArray[np.int64], n_pm: int, mean: Array, weight: Array
              ) -> tuple[Array, Array, Array]:
    """Per player-market (weighted mean, weighted sd, total weight) of the quotes' means."""
    w = np.where(np.isnan(mean), 0.0, weight)
    m = np.nan_to_num(mean)
    sw = np.bincount(pm, w, minlength=n_pm)
    with np.errstate(invalid="ignore", divide="ignore"):
        avg = np.bincount(pm, w * m, minlength=n_pm) / sw
        var = np.bincount(pm, w * (m - avg[pm]) ** 2, minlength=n_pm) / sw
    return np.where(sw > 0, avg, np.nan), np.sqrt(np.where(sw > 0, var, np.nan)), sw


def fit_market(offers: pd.DataFrame, shapes: pd.DataFrame | None = None, *,
               method: str = "multiplicative", markets: MarketTable | None = None,
               book_weights: Mapping[str, float] | None = None,
               include_suspended: bool = False) -> pd.DataFrame:
    """The market-implied distribution per (game_id, player_id, market) from two-sided quotes.

    ``shapes`` (optional) is indexed by (player_id, market) with columns ``shape`` and
    ``zero_prob`` (e.g. from ``priors_from_results``) to hold a player's own shape fixed.
    Player-markets with no usable two-sided quote are left out.
    """
    if offers.empty:
        return pd.DataFrame(columns=["family", "mean", "var", "zero_prob", "shape", "n_quotes",
                                     "n_books", "mean_sd", "consensus_line"],
                            index=pd.MultiIndex.from_arrays([[], [], []], names=PM_KEYS))
    p_over, _ = no_vig(offers, method)
    keys = offers[PM_KEYS].astype(str)
    pm, uniq = pd.MultiIndex.from_frame(keys).factorize()
    code, shape = default_shapes(offers["market"], offers["league"], markets)
    zero = np.zeros(len(offers))
    if shapes is not None and len(shapes):
        idx = pd.MultiIndex.from_frame(keys[["player_id", "market"]])
        own = shapes.reindex(idx)
        has = own["shape"].notna().to_numpy()
        shape = np.where(has, own["shape"].to_numpy(float), shape)
        zero = np.nan_to_num(own["zero_prob"].to_numpy(float), nan=0.0) \
            if "zero_prob" in own else zero
    line = effective_line(offers["market"], offers["line"].to_numpy(float, na_value=np.nan))
    use = ~np.isnan(p_over)
    if not include_suspended:
        use &= ~offers["is_suspended"].to_numpy(bool)
    mean = np.full(len(offers), np.nan)
    mean[use] = implied_mean(code[use], shape[use], zero[use], line[use], p_over[use])
    weights = np.ones(len(offers))
    if book_weights:
        weights = offers["book"].map(dict(book_weights)).fillna(1.0).to_numpy(float)
    n_pm = len(uniq)
    avg, sd, _ = consensus(pm, n_pm, mean, weights)
    n_quotes = np.bincount(pm, ~np.isnan(mean), minlength=n_pm)
    first = np.unique(pm, return_index=True)[1]
    lines = np.where(np.isnan(mean), np.nan, offers["line"].to_numpy(float, na_value=np.nan))
    cons_line = pd.Series(lines).groupby(pm).median().reindex(range(n_pm)).to_numpy()
    out = pd.DataFrame({
        "family": pd.Series(code[first]).map({v: k for k, v in FAMILY_CODE.items()}).to_numpy(),
        "mean": avg, "zero_prob": zero[first], "shape": shape[first],
        "n_quotes": n_quotes,
        "n_books": pd.Series(offers["book"].to_numpy()[use]).groupby(pm[use]).nunique()
        .reindex(range(n_pm)).fillna(0).astype(int).to_numpy(),
        "mean_sd": sd, "consensus_line": cons_line,
    }, index=uniq.set_names(PM_KEYS))
    out.insert(2, "var", dist.var_from_shape(code[first], avg, shape[first]))
    return out[out["n_quotes"] > 0]
