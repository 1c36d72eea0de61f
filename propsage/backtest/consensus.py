"""Market consensus of a board, line-aware through the pricing distribution.

Each two-sided quote is de-vigged and inverted to the mean of its market's distribution (shape
held at the market default; ``propsage.pricing.market.implied_mean``). Per group (one
player-market at one moment) each book's quotes average to one mean per book, the books'
means average to the consensus, and the consensus distribution is read at any line: so a
close at 7.5 prices a bet taken at 6.5 (P(over 6.5) under the closing distribution).
Probabilities are push-excluded: P(over) / (P(over) + P(under)).

``exclude_own=True`` leaves each row's own book out of its consensus (the fair value a book's
price is judged against is the other books' view).

Speed: groups and books are integer keys (``gkey``, ``bkey``, ``mkey`` columns from
``read_boards``; hashed here when absent), and quotes are inverted once per distinct
(market, line, prices): real boards repeat the same few thousand quotes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from propsage.pricing import distributions as dist
from propsage.pricing.market import default_shapes, implied_mean, no_vig

Array = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


def row_keys(frame: pd.DataFrame, cols: Sequence[str], name: str | None = None) -> np.ndarray:
    """A uint64 key per row of ``cols`` (the precomputed ``name`` column when present)."""
    if name is not None and name in frame:
        return frame[name].to_numpy(np.uint64)
    return pd.util.hash_pandas_object(frame[list(cols)].astype(object), index=False).to_numpy()


def codes_of(keys: np.ndarray) -> tuple[Ints, int]:
    """Dense codes 0..n-1 of keys, in order of first appearance, and n."""
    codes, uniq = pd.factorize(keys)
    return codes.astype(np.int64), len(uniq)


def first_rows(codes: Ints, n: int) -> Ints:
    """Index of the first row of each code."""
    first = np.empty(n, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    return first


def market_params(board: pd.DataFrame) -> tuple[np.ndarray, Array, np.ndarray, np.ndarray]:
    """Per row: (family code, default shape, is spreads, is h2h), computed once per market."""
    mk = row_keys(board, ["market", "league"], "mkey")
    codes, n = codes_of(mk)
    first = first_rows(codes, n)
    markets = board["market"].to_numpy(object)[first]
    leagues = board["league"].fillna("").to_numpy(object)[first]
    fam, shape = default_shapes(markets, leagues)
    return (fam[codes], shape[codes], (markets == "spreads")[codes], (markets == "h2h")[codes])


def quote_means(board: pd.DataFrame, method: str = "multiplicative") -> tuple[Array, Array]:
    """Per row: (no-vig P(over), implied mean); NaN mean for one-sided quotes."""
    n = len(board)
    if n == 0:
        return np.zeros(0), np.zeros(0)
    fam, shape, spread, _ = market_params(board)
    line = board["line_numeric"].to_numpy(float, na_value=np.nan)
    quote = pd.DataFrame({"f": fam, "s": shape, "l": line,
                          "o": board["over_price"].to_numpy(float, na_value=np.nan),
                          "u": board["under_price"].to_numpy(float, na_value=np.nan)})
    codes, nq = codes_of(pd.util.hash_pandas_object(quote, index=False).to_numpy())
    first = first_rows(codes, nq)
    uq = quote.iloc[first]
    p_over, _ = no_vig(uq.rename(columns={"o": "over_price", "u": "under_price"}), method)
    eff = np.where(spread[first], -uq["l"].to_numpy(), uq["l"].to_numpy())
    mean = np.full(nq, np.nan)
    ok = ~np.isnan(p_over)
    if ok.any():
        mean[ok] = implied_mean(uq["f"].to_numpy(np.int8)[ok], uq["s"].to_numpy()[ok],
                                np.zeros(int(ok.sum())), eff[ok], p_over[ok])
    return p_over[codes], mean[codes]


def prob_over_at(board: pd.DataFrame, mean: Array, lines: Array | None = None) -> Array:
    """Push-excluded P(over) at each row's line (or ``lines``) of its market's distribution."""
    if len(board) == 0:
        return np.zeros(0)
    fam, shape, spread, h2h = market_params(board)
    raw = board["line_numeric"].to_numpy(float, na_value=np.nan) if lines is None else lines
    # Spreads model the home margin (threshold -line); h2h is Bernoulli(home wins), read at
    # 0.5 like a market without a point, never at its 0 'line'.
    line = np.where(h2h, np.nan, np.where(spread, -raw, raw))
    var = dist.var_from_shape(fam, mean, shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        over, under, _ = dist.over_under_push_arrays(fam, mean, var, np.zeros(len(mean)), line)
        return over / (over + under)


def book_means(board: pd.DataFrame, group: Sequence[str], mean: Array,
               books: Sequence[str] = (), group_key: str | None = None
               ) -> tuple[Ints, Array, Array, Array, Ints]:
    """Per row its group code; per group the sum of book means and the book count; per row its
    own book's mean (NaN when that book does not count); and each group's first row.

    Only books in ``books`` (all when empty) count toward the sums.
    """
    g, n_g = codes_of(row_keys(board, group, group_key))
    b, n_b = codes_of(row_keys(board, ["book"], "bkey"))
    gb, n_gb = codes_of(g * n_b + b)
    has = ~np.isnan(mean)
    cnt = np.bincount(gb, has, minlength=n_gb)
    tot = np.bincount(gb, np.where(has, mean, 0.0), minlength=n_gb)
    with np.errstate(invalid="ignore", divide="ignore"):
        bmean = np.where(cnt > 0, tot / cnt, np.nan)
    counts = cnt > 0
    if len(books):
        member = board["book"].isin(list(books)).to_numpy()
        listed = np.zeros(n_gb, dtype=bool)
        listed[gb[member]] = True
        counts &= listed
    g_of_gb = np.zeros(n_gb, dtype=np.int64)
    g_of_gb[gb] = g
    s = np.bincount(g_of_gb, np.where(counts, bmean, 0.0), minlength=n_g)
    n = np.bincount(g_of_gb, counts, minlength=n_g).astype(float)
    own = np.where(counts[gb], bmean[gb], np.nan)
    return g, s, n, own, first_rows(g, n_g)


def consensus_prob(board: pd.DataFrame, group: Sequence[str], *, method: str = "multiplicative",
                   exclude_own: bool = True, books: Sequence[str] = (),
                   group_key: str | None = None, lines: Array | None = None
                   ) -> tuple[Array, Array]:
    """Per row: (line-aware consensus P(over) at its line (or ``lines``), books in it)."""
    if board.empty:
        return np.array([]), np.array([])
    _, mean = quote_means(board, method)
    g, s, n, own, _ = book_means(board, group, mean, books, group_key)
    s_row, n_row = s[g], n[g]
    if exclude_own:
        mine = ~np.isnan(own)
        s_row = np.where(mine, s_row - np.nan_to_num(own), s_row)
        n_row = np.where(mine, n_row - 1, n_row)
    with np.errstate(invalid="ignore", divide="ignore"):
        cmean = np.where(n_row > 0, s_row / n_row, np.nan)
    return prob_over_at(board, cmean, lines), n_row
