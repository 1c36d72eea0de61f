"""Market consensus of a board, line-aware through the pricing distribution.

Each two-sided quote is de-vigged and inverted to the mean of its market's distribution (shape
held at the market default; ``propsage.pricing.market.implied_mean``). Per group (one
player-market at one moment) each book's quotes average to one mean per book, the books'
means average to the consensus, and the consensus distribution is read at any line: so a
close at 7.5 prices a bet taken at 6.5 (P(over 6.5) under the closing distribution).
Probabilities are push-excluded: P(over) / (P(over) + P(under)).

``exclude_own=True`` leaves each row's own book out of its consensus (the fair value a book's
price is judged against is the other books' view).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from propsage.pricing import distributions as dist
from propsage.pricing.market import default_shapes, effective_line, implied_mean, no_vig

Array = npt.NDArray[np.float64]


def _codes(frame: pd.DataFrame, keys: Sequence[str]) -> tuple[np.ndarray, pd.MultiIndex]:
    codes, uniq = pd.MultiIndex.from_frame(frame[list(keys)].astype(object)).factorize()
    return codes.astype(np.int64), uniq


def quote_means(board: pd.DataFrame, method: str = "multiplicative"
                ) -> tuple[Array, np.ndarray, Array]:
    """Per row: (no-vig P(over), family code, implied mean); NaN mean for one-sided quotes."""
    p_over, _ = no_vig(board, method)
    code, shape = default_shapes(board["market"].to_numpy(object),
                                 board["league"].fillna("").to_numpy(object))
    line = effective_line(board["market"].to_numpy(object),
                          board["line_numeric"].to_numpy(float, na_value=np.nan))
    mean = np.full(len(board), np.nan)
    ok = ~np.isnan(p_over)
    if ok.any():
        mean[ok] = implied_mean(code[ok], shape[ok], np.zeros(int(ok.sum())), line[ok],
                                p_over[ok])
    return p_over, code, mean


def prob_over_at(board: pd.DataFrame, mean: Array, lines: Array | None = None) -> Array:
    """Push-excluded P(over) at each row's line (or ``lines``) of its market's distribution."""
    code, shape = default_shapes(board["market"].to_numpy(object),
                                 board["league"].fillna("").to_numpy(object))
    raw = board["line_numeric"].to_numpy(float, na_value=np.nan) if lines is None else lines
    market = board["market"].to_numpy(object)
    # h2h is Bernoulli(home wins): read at 0.5 like a pointless market, never at its 0 'line'.
    line = np.where(market == "h2h", np.nan, effective_line(market, raw))
    var = dist.var_from_shape(code, mean, shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        over, under, _ = dist.over_under_push_arrays(code, mean, var, np.zeros(len(mean)), line)
        return over / (over + under)


def book_means(board: pd.DataFrame, group: Sequence[str], mean: Array,
               books: Sequence[str] = ()
               ) -> tuple[np.ndarray, Array, Array, Array, pd.MultiIndex]:
    """Per row its group code; per group the sum of book means and the book count; per row its
    own book's mean (NaN when that book does not count); and the groups' keys.

    Only books in ``books`` (all when empty) count toward the sums.
    """
    g, groups = _codes(board, group)
    n_g = len(groups)
    gb_frame = pd.DataFrame({"g": g, "book": board["book"].to_numpy(object)})
    gb, gb_keys = _codes(gb_frame, ["g", "book"])
    n_gb = len(gb_keys)
    has = ~np.isnan(mean)
    cnt = np.bincount(gb, has, minlength=n_gb)
    tot = np.bincount(gb, np.where(has, mean, 0.0), minlength=n_gb)
    with np.errstate(invalid="ignore", divide="ignore"):
        bmean = np.where(cnt > 0, tot / cnt, np.nan)
    counts = cnt > 0
    if len(books):
        member = board["book"].isin(list(books)).to_numpy()
        listed = np.full(n_gb, False)
        listed[gb[member]] = True
        counts &= listed
    g_of_gb = np.zeros(n_gb, dtype=np.int64)
    g_of_gb[gb] = g
    s = np.bincount(g_of_gb, np.where(counts, bmean, 0.0), minlength=n_g)
    n = np.bincount(g_of_gb, counts, minlength=n_g).astype(float)
    own = np.where(counts[gb], bmean[gb], np.nan)
    return g, s, n, own, groups


def consensus_prob(board: pd.DataFrame, group: Sequence[str], *, method: str = "multiplicative",
                   exclude_own: bool = True, books: Sequence[str] = (),
                   lines: Array | None = None) -> tuple[Array, Array]:
    """Per row: (line-aware consensus P(over) at its line (or ``lines``), books in it)."""
    if board.empty:
        return np.array([]), np.array([])
    _, _, mean = quote_means(board, method)
    g, s, n, own, _ = book_means(board, group, mean, books)
    s_row, n_row = s[g], n[g]
    if exclude_own:
        mine = ~np.isnan(own)
        s_row = np.where(mine, s_row - np.nan_to_num(own), s_row)
        n_row = np.where(mine, n_row - 1, n_row)
    with np.errstate(invalid="ignore", divide="ignore"):
        cmean = np.where(n_row > 0, s_row / n_row, np.nan)
    return prob_over_at(board, cmean, lines), n_row
