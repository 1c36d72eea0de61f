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

from propsage.backtest.consensus import book_means, prob_over_at, quote_means
from propsage.backtest.stats import clustered_mean, wilson_interval
from propsage.pricing.market import no_vig

PM = ["game_id", "player_id", "market"]


def main_lines(board: pd.DataFrame, method: str = "multiplicative") -> pd.DataFrame:
    """Per (game, player, market, book): the two-sided quote whose no-vig P(over) is nearest 0.5."""
    p, _ = no_vig(board, method)
    ranked = board.assign(_dist=np.abs(p - 0.5))
    ranked = ranked[ranked["_dist"].notna()].sort_values([*PM, "book", "_dist", "line_numeric"],
                                                        kind="stable")
    return ranked.drop_duplicates([*PM, "book"], keep="first").drop(columns="_dist")


def closing_consensus(close: pd.DataFrame, *, method: str = "multiplicative",
                      books: Sequence[str] = ()) -> pd.DataFrame:
    """Per player-market: closing consensus mean, books in it, and the books' median main line."""
    if close.empty:
        return pd.DataFrame(columns=["close_mean", "close_books", "line_close"],
                            index=pd.MultiIndex.from_arrays([[], [], []], names=PM))
    _, _, mean = quote_means(close, method)
    _, s, n, _, uniq = book_means(close, PM, mean, books)
    with np.errstate(invalid="ignore", divide="ignore"):
        cmean = np.where(n > 0, s / n, np.nan)
    out = pd.DataFrame({"close_mean": cmean, "close_books": n}, index=uniq.set_names(PM))
    line = main_lines(close, method).groupby(PM)["line_numeric"].median()
    out["line_close"] = line.reindex(out.index).to_numpy()
    return out


def same_line_close(close: pd.DataFrame, bets: pd.DataFrame, *,
                    method: str = "multiplicative", books: Sequence[str] = ()) -> np.ndarray:
    """Per bet: mean closing no-vig P(over) of the books that closed on exactly its line."""
    if close.empty or bets.empty:
        return np.full(len(bets), np.nan)
    p, _ = no_vig(close, method)
    cl = close[[*PM, "book"]].assign(line=close["line_numeric"].fillna(-1e9).to_numpy(), p=p)
    if books:
        cl = cl[cl["book"].isin(list(books))]
    cl = cl[cl["p"].notna()]
    same = cl.groupby([*PM, "line", "book"])["p"].mean().groupby(level=[0, 1, 2, 3]).mean()
    idx = pd.MultiIndex.from_frame(
        bets[PM].astype(object).assign(line=bets["line_numeric"].fillna(-1e9).to_numpy()))
    return same.reindex(idx).to_numpy(float)


def attach_clv(bets: pd.DataFrame, close: pd.DataFrame, *, method: str = "multiplicative",
               books: Sequence[str] = ()) -> pd.DataFrame:
    """Bets with p_close, clv_ev, beat_close (line-aware) and the same-line variants."""
    out = bets.copy()
    cons = closing_consensus(close, method=method, books=books)
    idx = pd.MultiIndex.from_frame(out[PM].astype(object))
    c = cons.reindex(idx)
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
    for k, b in bets.groupby(key, sort=True):
        blk = _block(b, "clv_ev")
        same = _block(b, "clv_ev_same_line")
        rows.append({key: k, "bets": blk["n"], "beat_close": blk["beat_close"],
                     "ci_low": blk["beat_close_ci"][0], "ci_high": blk["beat_close_ci"][1],
                     "clv_ev_mean": blk["clv_ev_mean"], "clv_ev_se": blk["clv_ev_se"],
                     "same_line_bets": same["n"], "same_line_beat_close": same["beat_close"],
                     "line_moved": int(b["line_moved"].astype(bool).sum())})
    return pd.DataFrame(rows)
