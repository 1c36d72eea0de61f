"""Consensus, outliers and best prices per (game, player, market), line-aware and guarded.

Every quote is screened before it may count (``screen``):

- ``suspended`` / inactive quotes are dropped;
- ``stale``: the book's own time is older than ``max_age`` at ``now`` (``max_age_live`` for
  in-play quotes, which change every few minutes while pre-game ones can rest for hours), or
  the game is live (some quote of it ``is_live``) and this quote is still a pre-game one;
- ``bad_hold``: a book's own two sides sum to less than ``1 + hold_min`` or more than
  ``1 + hold_max`` in inverse decimal odds (an impossible or absurd pair);
- ``off_line`` / ``neighbour_line``: the quote's no-vig P(over) is more than ``prob_tol`` from
  what the consensus says at that quote's line; ``neighbour_line`` when the price fits a line
  0.5 or 1 away instead (a price stored under the wrong line; ``likely_line`` says which);
- ``line_iqr`` (information only): a book's main line outside Q1 - k IQR .. Q3 + k IQR of the
  books' main lines.

Only quotes with no reason (or ``line_iqr``) are ``usable`` for best prices, arbitrage and
middles. The consensus is line-aware: each book's main quote (its line with no-vig P(over)
nearest 0.5) is re-expressed at the common line through ``prob_fn`` (see
``propsage.analytics.distribution``; default ``NormalApprox``); without a model for a market,
only books on the common line count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from propsage.analytics.distribution import NormalApprox, ProbFn, no_push_over
from propsage.analytics.quotes import (
    BOOK_KEY, GROUP, LINE_KEY, as_quotes, as_utc, clean_american, decimal_odds, group_codes,
    no_vig_over, quote_time, threshold,
)

EXCLUDING = frozenset({"suspended", "stale", "bad_hold", "off_line", "neighbour_line"})
_NEIGHBOUR_STEPS = (-1.0, -0.5, 0.5, 1.0)
_ONE_SIDED_HALF_HOLD = 0.025  # a one-sided price carries about half a typical 5 % hold

CONSENSUS_COLUMNS = [
    *GROUP, "league", "n_books", "n_quotes", "consensus_line", "line_min", "line_max",
    "line_spread", "prob_line", "consensus_prob", "prob_spread", "agreement", "hold_median",
    "line_aware", "n_flagged",
]


@dataclass(slots=True, frozen=True)
class ScreenParams:
    """Tunable guards of ``screen`` (defaults suit US books)."""

    max_age: pd.Timedelta | None = None
    max_age_live: pd.Timedelta | None = None
    prob_tol: float = 0.08
    min_books: int = 3
    iqr_k: float = 1.5
    hold_min: float = -0.01
    hold_max: float = 0.25
    agree_tol: float = 0.03


@dataclass(slots=True)
class Screened:
    """Every active quote with its flags, and the consensus of each (game, player, market)."""

    quotes: pd.DataFrame
    consensus: pd.DataFrame


def _same_line(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a == b) | (np.isnan(a) & np.isnan(b))


def _first(codes: np.ndarray, *sort_keys: np.ndarray) -> np.ndarray:
    """Positions of the first row per code after sorting by ``sort_keys`` (primary first)."""
    order = np.lexsort((*reversed(sort_keys), codes))
    c = codes[order]
    keep = np.ones(len(order), dtype=bool)
    keep[1:] = c[1:] != c[:-1]
    return order[keep]


def screen(
    board: pd.DataFrame,
    *,
    prob_fn: ProbFn | None = None,
    now: pd.Timestamp | None = None,
    params: ScreenParams | None = None,
    **overrides: object,
) -> Screened:
    """Flag every quote of ``board`` and compute the line-aware consensus (never mutates)."""
    prm = params or ScreenParams()
    if overrides:
        prm = ScreenParams(**{**{f: getattr(prm, f) for f in prm.__dataclass_fields__},
                              **overrides})
    prob_fn = prob_fn or NormalApprox()
    q = as_quotes(board)
    q = q[q["is_active"].to_numpy(dtype=bool)].reset_index(drop=True)
    if now is None and len(q):
        now = q["fetched_at"].max()
    n = len(q)
    over = clean_american(q["over_price"].to_numpy(dtype=float))
    under = clean_american(q["under_price"].to_numpy(dtype=float))
    line = q["line"].to_numpy(dtype=float)
    market = q["market"].to_numpy(dtype=object)
    p = no_vig_over(over, under)
    with np.errstate(invalid="ignore"):
        hold = 1.0 / decimal_odds(over) + 1.0 / decimal_odds(under) - 1.0
    q["prob"] = p
    q["hold"] = hold
    reason = np.full(n, "", dtype=object)

    def flag(mask: np.ndarray, why: str) -> None:
        reason[(reason == "") & mask] = why

    flag(q["is_suspended"].to_numpy(dtype=bool), "suspended")
    if now is not None and n:
        age = (as_utc(now) - quote_time(q)).dt.total_seconds().to_numpy(dtype=float)
        q["age_s"] = age
        if prm.max_age is not None:
            flag(age > pd.Timedelta(prm.max_age).total_seconds(), "stale")
        if prm.max_age_live is not None:
            flag(q["is_live"].to_numpy(bool)
                 & (age > pd.Timedelta(prm.max_age_live).total_seconds()), "stale")
    else:
        q["age_s"] = np.nan
    live = q["is_live"].to_numpy(dtype=bool)
    if live.any():
        game_live = q.groupby("game_id", sort=False)["is_live"].transform("any").to_numpy(bool)
        flag(game_live & ~live, "stale")
    with np.errstate(invalid="ignore"):
        flag((hold < prm.hold_min) | (hold > prm.hold_max), "bad_hold")

    g = group_codes(q, GROUP)
    kb = group_codes(q, BOOK_KEY)
    two = (reason == "") & ~np.isnan(p)
    dist = np.where(two, np.abs(p - 0.5), np.inf)
    first = _first(kb, dist, np.nan_to_num(line, nan=0.0))
    mains = first[two[first]]
    is_main = np.zeros(n, dtype=bool)
    is_main[mains] = True
    q["is_main"] = is_main

    n_groups = int(g.max()) + 1 if n else 0
    m = pd.DataFrame({"g": g[mains], "line": line[mains]})
    stats = m.groupby("g")["line"].agg(["size", "median", "min", "max"])
    q1 = m.groupby("g")["line"].quantile(0.25)
    q3 = m.groupby("g")["line"].quantile(0.75)

    def per_group(s: pd.Series, fill: float = np.nan) -> np.ndarray:
        return s.reindex(range(n_groups)).to_numpy(dtype=float, na_value=fill)

    n_books = per_group(stats["size"], 0.0)
    med_line = per_group(stats["median"])
    # The common line: the main line most books quote, nearest the median on ties.
    cnt = m.groupby(["g", "line"], dropna=False).size().rename("k").reset_index()
    if len(cnt):
        gi = cnt["g"].to_numpy()
        pick = _first(gi, -cnt["k"].to_numpy(dtype=float),
                      np.nan_to_num(np.abs(cnt["line"].to_numpy() - med_line[gi]), nan=0.0),
                      np.nan_to_num(cnt["line"].to_numpy(), nan=0.0))
        prob_line = pd.Series(cnt["line"].to_numpy()[pick], index=gi[pick])
    else:
        prob_line = pd.Series(dtype=float)
    pline = per_group(prob_line)

    t_q = threshold(market, line)
    t_star = threshold(market, pline[g]) if n else np.zeros(0)
    at_common = _same_line(line, pline[g]) if n else np.zeros(0, dtype=bool)
    anchors = pd.DataFrame({
        "game_id": q["game_id"], "player_id": q["player_id"], "market": q["market"],
        "league": q["league"].fillna(""), "line": t_q, "prob": p,
    })
    with np.errstate(invalid="ignore", divide="ignore"):
        shifted = np.where(at_common, p, no_push_over(prob_fn, anchors, t_star) if n else p)
    q["prob_at_common"] = shifted
    ms = pd.DataFrame({"g": g[mains], "s": shifted[mains]})
    cons_prob = per_group(ms.groupby("g")["s"].median())
    s_min = per_group(ms.groupby("g")["s"].min())
    s_max = per_group(ms.groupby("g")["s"].max())
    near = np.abs(shifted[mains] - cons_prob[g[mains]]) <= prm.agree_tol
    ms["near"] = np.where(np.isnan(shifted[mains]), np.nan, near)
    agreement = per_group(ms.groupby("g")["near"].mean())
    aware = per_group(ms.assign(ok=~np.isnan(ms["s"])).groupby("g")["ok"].all().astype(float))

    # What the consensus says at each quote's own line (and at its neighbours).
    c_anchor = anchors.assign(line=t_star, prob=cons_prob[g] if n else np.zeros(0))
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = np.where(at_common, cons_prob[g] if n else p,
                            no_push_over(prob_fn, c_anchor, t_q) if n else p)
    q["expected_prob"] = expected
    one_sided = (reason == "") & np.isnan(p) & ~(np.isnan(over) & np.isnan(under))
    with np.errstate(invalid="ignore"):
        raw_over = np.where(np.isnan(over), np.nan, 1.0 / decimal_odds(over))
        raw_under = np.where(np.isnan(under), np.nan, 1.0 / decimal_odds(under))
        est = np.where(~np.isnan(raw_over), raw_over - _ONE_SIDED_HALF_HOLD,
                       1.0 - (raw_under - _ONE_SIDED_HALF_HOLD))
        obs = np.where(one_sided, est, p)
        gap = obs - expected
    q["prob_gap"] = gap
    judged = ((reason == "") & ~np.isnan(gap) & (n_books[g] >= prm.min_books)) if n else two
    off = judged & (np.abs(gap) > prm.prob_tol)
    likely = np.full(n, np.nan)
    if off.any():
        best = np.full(n, np.inf)
        for step in _NEIGHBOUR_STEPS:
            nb = threshold(market, line + step)
            with np.errstate(invalid="ignore", divide="ignore"):
                e_nb = no_push_over(prob_fn, c_anchor, nb)
                d = np.abs(obs - e_nb)
            better = off & (d <= prm.prob_tol / 2) & (d < best)
            best = np.where(better, d, best)
            likely = np.where(better, line + step, likely)
    q["likely_line"] = likely
    flag(off & ~np.isnan(likely), "neighbour_line")
    flag(off, "off_line")
    if n:
        iqr = per_group(q3) - per_group(q1)
        lo = per_group(q1)[g] - prm.iqr_k * iqr[g]
        hi = per_group(q3)[g] + prm.iqr_k * iqr[g]
        iqr_out = is_main & (n_books[g] >= max(prm.min_books, 4)) & ((line < lo) | (line > hi))
        flag(iqr_out, "line_iqr")
    q["reason"] = reason
    q["usable"] = ~np.isin(reason, list(EXCLUDING))

    # Group table.
    keys = q.drop_duplicates(GROUP)[[*GROUP, "league"]]
    keys = keys.assign(g=g[keys.index.to_numpy()]).set_index("g").sort_index()
    flagged = pd.Series(np.isin(reason, list(EXCLUDING))).groupby(g).sum()
    hold_med = pd.Series(np.where(is_main, hold, np.nan)).groupby(g).median()
    idx = keys.index.to_numpy()
    cons = keys.reset_index(drop=True).assign(
        n_books=n_books[idx].astype(int),
        n_quotes=np.bincount(g, minlength=n_groups)[idx] if n else np.zeros(0, int),
        consensus_line=med_line[idx],
        line_min=per_group(stats["min"])[idx], line_max=per_group(stats["max"])[idx],
        line_spread=(per_group(stats["max"]) - per_group(stats["min"]))[idx],
        prob_line=pline[idx], consensus_prob=cons_prob[idx],
        prob_spread=(s_max - s_min)[idx], agreement=agreement[idx],
        hold_median=hold_med.reindex(idx).to_numpy(dtype=float),
        line_aware=(aware[idx] == 1.0), n_flagged=flagged.reindex(idx).fillna(0).to_numpy(int),
    )
    return Screened(quotes=q, consensus=cons[CONSENSUS_COLUMNS])


def consensus(board: pd.DataFrame, *, prob_fn: ProbFn | None = None,
              now: pd.Timestamp | None = None, **guards: object) -> pd.DataFrame:
    """Per (game, player, market): median line, line-aware no-vig consensus, spreads, agreement."""
    return screen(board, prob_fn=prob_fn, now=now, **guards).consensus


def outliers(board: pd.DataFrame, *, prob_fn: ProbFn | None = None,
             now: pd.Timestamp | None = None, **guards: object) -> pd.DataFrame:
    """The quotes the guards flag, with the reason and the consensus they were judged against."""
    q = screen(board, prob_fn=prob_fn, now=now, **guards).quotes
    cols = ["offer_id", *BOOK_KEY, "line", "over_price", "under_price", "prob", "expected_prob",
            "prob_gap", "likely_line", "hold", "age_s", "reason", "usable"]
    return q.loc[q["reason"] != "", cols].reset_index(drop=True)


BEST_COLUMNS = [
    *LINE_KEY, "n_books", "best_over_price", "best_over_book", "best_over_offer",
    "best_under_price", "best_under_book", "best_under_offer", "inv_sum", "oldest_leg_time",
    "newest_leg_time",
]


def best_from_screened(quotes: pd.DataFrame) -> pd.DataFrame:
    """Best usable price per side at each (game, player, market, line)."""
    q = quotes[quotes["usable"].to_numpy(dtype=bool)]
    if q.empty:
        return pd.DataFrame(columns=BEST_COLUMNS)
    q = q.reset_index(drop=True)
    lk = group_codes(q, LINE_KEY)
    d_over = decimal_odds(q["over_price"].to_numpy(dtype=float))
    d_under = decimal_odds(q["under_price"].to_numpy(dtype=float))
    t = quote_time(q)
    out = q.drop_duplicates(LINE_KEY)[LINE_KEY]
    out = out.assign(lk=lk[out.index.to_numpy()]).set_index("lk").sort_index()
    out["n_books"] = pd.Series(q["book"].to_numpy()).groupby(lk).nunique()
    for side, d in (("over", d_over), ("under", d_under)):
        has = ~np.isnan(d)
        pos = _first(lk[has], -d[has])
        rows = np.flatnonzero(has)[pos]
        at = lk[rows]
        out[f"best_{side}_price"] = pd.Series(q[f"{side}_price"].to_numpy()[rows], index=at)
        out[f"best_{side}_book"] = pd.Series(q["book"].to_numpy()[rows], index=at)
        out[f"best_{side}_offer"] = pd.Series(q["offer_id"].to_numpy()[rows], index=at)
        out[f"_d_{side}"] = pd.Series(d[rows], index=at)
        out[f"_t_{side}"] = t.iloc[rows].set_axis(at)
    out["inv_sum"] = 1.0 / out["_d_over"] + 1.0 / out["_d_under"]
    out["oldest_leg_time"] = out[["_t_over", "_t_under"]].min(axis=1)
    out["newest_leg_time"] = out[["_t_over", "_t_under"]].max(axis=1)
    return out.reset_index(drop=True)[BEST_COLUMNS]


def best_prices(board: pd.DataFrame, *, prob_fn: ProbFn | None = None,
                now: pd.Timestamp | None = None, **guards: object) -> pd.DataFrame:
    """Best usable over and under price (and book) per line; flagged quotes never count."""
    return best_from_screened(screen(board, prob_fn=prob_fn, now=now, **guards).quotes)
