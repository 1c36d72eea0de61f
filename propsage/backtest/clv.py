"""Closing-line value: how the price taken compares with the closing no-vig consensus.

The close of an offer is its last snapshot strictly before the game's start. Per player-market
the closing consensus is the book-averaged mean of the closing quotes' implied distributions
(``propsage.backtest.consensus``), read at the BET's line: a bet on Over 6.5 whose market
closed at 7.5 is judged by P(over 6.5) under the closing distribution. No bet is dropped for
a moved line. CLV as EV = p_close(side at the bet's line) x decimal price taken - 1; a bet
"beats the close" when that is > 0.

The same-line variant (only books that closed on exactly the bet's line, NaN otherwise) is
kept beside it to show how much a same-point-only measure flatters a strategy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from propsage.backtest.consensus import (
    book_means,
    codes_of,
    prob_over_at,
    quote_means,
    row_keys,
)
from propsage.backtest.stats import clustered_mean, wilson_interval
from propsage.pricing.market import no_vig

PM = ["game_id", "player_id", "market"]


def _pm_keys(frame: pd.DataFrame) -> np.ndarray:
    return row_keys(frame, PM, "pmkey")


def main_lines(board: pd.DataFrame, method: str = "multiplicative") -> pd.DataFrame:
    """Per (game, player, market, book): the two-sided quote whose no-vig P(over) is nearest 0.5."""
    p, _ = no_vig(board, method)
    gb, _ = codes_of(pd.util.hash_pandas_object(
        pd.DataFrame({"pm": _pm_keys(board), "b": row_keys(board, ["book"], "bkey")}),
        index=False).to_numpy())
    ok = np.flatnonzero(~np.isnan(p))
    order = ok[np.lexsort((board["line_numeric"].to_numpy(float)[ok], np.abs(p[ok] - 0.5),
                           gb[ok]))]
    first = order[np.r_[True, gb[order][1:] != gb[order][:-1]]] if len(order) else order
    return board.iloc[np.sort(first)]


def closing_consensus(close: pd.DataFrame, *, method: str = "multiplicative",
                      books: Sequence[str] = ()) -> pd.DataFrame:
    """Per player-market key: closing consensus mean, books in it, the books' median main line."""
    cols = ["close_mean", "close_books", "line_close"]
    if close.empty:
        return pd.DataFrame(columns=cols, index=pd.Index([], dtype=np.uint64))
    _, mean = quote_means(close, method)
    keys = _pm_keys(close)
    g, s, n, _, first = book_means(close.assign(pmkey=keys), PM, mean, books, "pmkey")
    with np.errstate(invalid="ignore", divide="ignore"):
        cmean = np.where(n > 0, s / n, np.nan)
    out = pd.DataFrame({"close_mean": cmean, "close_books": n}, index=keys[first])
    mains = main_lines(close.assign(pmkey=keys), method)
    line = mains.groupby("pmkey")["line_numeric"].median()
    out["line_close"] = line.reindex(out.index).to_numpy()
    return out


def same_line_close(close: pd.DataFrame, bets: pd.DataFrame, *,
                    method: str = "multiplicative", books: Sequence[str] = ()) -> np.ndarray:
    """Per bet: mean closing no-vig P(over) of the books that closed on exactly its line."""
    if close.empty or bets.empty:
        return np.full(len(bets), np.nan)
    p, _ = no_vig(close, method)

    def line_keys(frame: pd.DataFrame) -> np.ndarray:
        return pd.util.hash_pandas_object(pd.DataFrame({
            "pm": _pm_keys(frame),
            "line": frame["line_numeric"].to_numpy(float, na_value=np.nan)}),
            index=False).to_numpy()

    cl = pd.DataFrame({"k": line_keys(close), "book": close["book"].to_numpy(object), "p": p})
    if books:
        cl = cl[cl["book"].isin(list(books))]
    cl = cl[cl["p"].notna()]
    same = cl.groupby(["k", "book"], sort=False)["p"].mean().groupby(level=0).mean()
    return same.reindex(line_keys(bets)).to_numpy(float)


def attach_clv(bets: pd.DataFrame, close: pd.DataFrame, *, method: str = "multiplicative",
               books: Sequence[str] = ()) -> pd.DataFrame:
    """Bets with p_close, clv_ev, beat_close (line-aware) and the same-line variants."""
    out = bets.copy()
    cons = closing_consensus(close, method=method, books=books)
    c = cons.reindex(_pm_keys(out))
    p_over = prob_over_at(out, c["close_mean"].to_numpy(float))
    over = (out["side"] == "over").to_numpy()
    p_side = np.where(over, p_over, 1.0 - p_over)
    dec = out["decimal"].to_numpy(float)
    out["p_close"] = p_side
    out["close_books"] = c["close_books"].to_numpy(float)
    out["clv_ev"] = p_side * dec - 1.0
    out["beat_close"] = np.where(np.isnan(p_side), np.nan, (out["clv_ev"] > 0).astype(float))
    line_close = c["line_close"].to_numpy(float)
    out["line_close"] = line_close
    bet_line = out["line_numeric"].to_numpy(float)
    with np.errstate(invalid="ignore"):
        moved = ~np.isnan(line_close) & ~np.isnan(bet_line) & (line_close != bet_line)
        # Over is hurt when the line falls, Under when it rises (spreads: the home point rising
        # means the market thinks less of home, which hurts a home = over bet).
        up = line_close > bet_line
        up = np.where((out["market"] == "spreads").to_numpy(), ~up, up)
        against = moved & np.where(over, ~up, up)
    out["line_moved"] = moved
    out["moved_against"] = against
    # Same line only: books that closed on exactly this line (NaN when none did).
    p_same = same_line_close(close, out, method=method, books=books)
    out["p_close_same_line"] = np.where(over, p_same, 1.0 - p_same)
    out["clv_ev_same_line"] = out["p_close_same_line"] * dec - 1.0
    return out


def _block(b: pd.DataFrame, ev_col: str) -> dict[str, Any]:
    ok = b[b[ev_col].notna()]
    n = len(ok)
    wins = int((ok[ev_col] > 0).sum())
    lo, hi = wilson_interval(wins, n)
    mean, se = clustered_mean(ok[ev_col].to_numpy(float), ok["game_id"].to_numpy(object))
    return {"n": n, "beat_close": wins / n if n else np.nan, "beat_close_ci": [lo, hi],
            "clv_ev_mean": mean, "clv_ev_se": se}


def clv_summary(bets: pd.DataFrame) -> dict[str, Any]:
    """Share of bets beating the close (Wilson 95 %), mean CLV EV (game-clustered SE), moves."""
    if bets.empty or "clv_ev" not in bets:
        return {"n": 0}
    line_aware = _block(bets, "clv_ev")
    same = _block(bets, "clv_ev_same_line")
    moved = bets["line_moved"].astype(bool)
    out = {
        "line_aware": line_aware,
        "same_line_only": same,
        "bets": int(len(bets)),
        "without_close": int(bets["clv_ev"].isna().sum()),
        "line_moved": int(moved.sum()),
        "line_moved_against": int(bets["moved_against"].astype(bool).sum()),
    }
    if moved.any():
        out["moved_bets"] = _block(bets[moved], "clv_ev")
    return out


def clv_by(bets: pd.DataFrame, key: str = "book") -> pd.DataFrame:
    """CLV per book (or market...): bets, share beating the close with Wilson CI, mean CLV EV."""
    rows = []
    for k, b in bets.groupby(bets[key].astype(str), sort=True):   # text order, always
        blk = _block(b, "clv_ev")
        same = _block(b, "clv_ev_same_line")
        rows.append({key: k, "bets": blk["n"], "beat_close": blk["beat_close"],
                     "ci_low": blk["beat_close_ci"][0], "ci_high": blk["beat_close_ci"][1],
                     "clv_ev_mean": blk["clv_ev_mean"], "clv_ev_se": blk["clv_ev_se"],
                     "same_line_bets": same["n"], "same_line_beat_close": same["beat_close"],
                     "line_moved": int(b["line_moved"].astype(bool).sum())})
    return pd.DataFrame(rows)
