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

from propsage.analytics import groups
from propsage.analytics.distribution import NormalApprox, ProbFn, no_push_over
from propsage.analytics.quotes import (
    BOOK_KEY,
    GROUP,
    LINE_KEY,
    as_quotes,
    as_utc,
    clean_american,
    decimal_odds,
    no_vig_over,
    quote_time,
    threshold,
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


def key_codes(q: pd.DataFrame) -> dict[str, np.ndarray]:
    """Integer codes of each quote's group, book-in-group and line-in-group."""
    game, player = groups.factor(q["game_id"]), groups.factor(q["player_id"])
    market, book = groups.factor(q["market"]), groups.factor(q["book"])
    g = groups.combine(game, player, market)
    return {"game": game, "g": g, "kb": groups.combine(g, book),
            "lk": groups.combine(g, groups.factor(q["line"].to_numpy(float)))}


def screen(
    board: pd.DataFrame,
    *,
    prob_fn: ProbFn | None = None,
    now: pd.Timestamp | None = None,
    params: ScreenParams | None = None,
    normalized: bool = False,
    codes: dict[str, np.ndarray] | None = None,
    **overrides: object,
) -> Screened:
    """Flag every quote of ``board`` and compute the line-aware consensus (never mutates).

    ``normalized``: ``board`` already went through ``as_quotes`` and holds only active
    quotes; ``codes``: its ``key_codes`` when the caller has them (both save time per poll).
    """
    prm = params or ScreenParams()
    if overrides:
        prm = ScreenParams(**{**{f: getattr(prm, f) for f in prm.__dataclass_fields__},
                              **overrides})
    prob_fn = prob_fn or NormalApprox()
    q = board if normalized else as_quotes(board)
    active = q["is_active"].to_numpy(dtype=bool)
    if not active.all():
        q, codes = q[active], None
    q = q.reset_index(drop=True)
    if now is None and len(q):
        now = q["fetched_at"].max()
    n = len(q)
    codes = codes or key_codes(q)
    g, kb = codes["g"], codes["kb"]
    over = clean_american(q["over_price"].to_numpy(dtype=float))
    under = clean_american(q["under_price"].to_numpy(dtype=float))
    line = q["line"].to_numpy(dtype=float)
    market = q["market"].to_numpy(dtype=object)
    p = no_vig_over(over, under)
    d_over, d_under = decimal_odds(over), decimal_odds(under)
    hold = 1.0 / d_over + 1.0 / d_under - 1.0
    reason = np.full(n, "", dtype=object)

    def flag(mask: np.ndarray, why: str) -> None:
        reason[(reason == "") & mask] = why

    flag(q["is_suspended"].to_numpy(dtype=bool), "suspended")
    age = np.full(n, np.nan)
    if now is not None and n:
        age = (as_utc(now) - quote_time(q)).dt.total_seconds().to_numpy(dtype=float)
        if prm.max_age is not None:
            flag(age > pd.Timedelta(prm.max_age).total_seconds(), "stale")
        if prm.max_age_live is not None:
            flag(q["is_live"].to_numpy(bool)
                 & (age > pd.Timedelta(prm.max_age_live).total_seconds()), "stale")
    live = q["is_live"].to_numpy(dtype=bool)
    if live.any():
        game_live = np.bincount(codes["game"], weights=live.astype(float)) > 0
        flag(game_live[codes["game"]] & ~live, "stale")
    with np.errstate(invalid="ignore"):
        flag((hold < prm.hold_min) | (hold > prm.hold_max), "bad_hold")

    n_groups = int(g.max()) + 1 if n else 0
    t_q = threshold(market, line)
    anchors = pd.DataFrame({
        "game_id": q["game_id"], "player_id": q["player_id"], "market": q["market"],
        "league": q["league"], "line": t_q, "prob": p,
    })
    if isinstance(prob_fn, NormalApprox) and n:
        kind, par = prob_fn.scale_params(market, q["league"].to_numpy(object))
        anchors = anchors.assign(scale_kind=kind, scale_par=par)

    def market_view(two: np.ndarray) -> dict[str, np.ndarray]:
        """Main lines, common line and line-aware consensus from the quotes in ``two``."""
        # Each book's main line: its two-sided quote nearest 50/50 (ties: the lower line).
        dist = np.where(two, np.abs(p - 0.5), np.inf)
        first = groups.first_per(kb, dist, np.nan_to_num(line, nan=0.0))
        mains = first[two[first]]
        is_main = np.zeros(n, dtype=bool)
        is_main[mains] = True
        gm, lm = g[mains], line[mains]
        q1, med, q3 = groups.quantiles(gm, lm, n_groups, (0.25, 0.5, 0.75))
        v = {"is_main": is_main, "n_books": np.bincount(gm, minlength=n_groups).astype(float),
             "med_line": med, "q1": q1, "q3": q3,
             "line_min": groups.reduce(gm, lm, n_groups, "min"),
             "line_max": groups.reduce(gm, lm, n_groups, "max")}
        # The common line: the main line most books quote, nearest the median on ties.
        pline = np.full(n_groups, np.nan)
        if len(mains):
            pair = groups.combine(gm, groups.factor(lm))
            k = np.bincount(pair)
            rep = groups.first_per(pair)            # a main row of each (group, line) pair
            pg, pl, pk = gm[rep], lm[rep], k[pair[rep]].astype(float)
            pick = groups.first_per(
                pg, -pk, np.nan_to_num(np.abs(pl - v["med_line"][pg]), nan=0.0),
                np.nan_to_num(pl, nan=0.0))
            pline[pg[pick]] = pl[pick]
        pl_q = pline[g] if n else np.zeros(0)
        at_common = _same_line(line, pl_q)
        shift = np.flatnonzero(~at_common & two)
        shifted = np.where(at_common & two, p, np.nan)
        t_star = threshold(market, pl_q)
        with np.errstate(invalid="ignore", divide="ignore"):
            if len(shift):
                shifted[shift] = no_push_over(prob_fn, anchors.iloc[shift], t_star[shift])
        sm = shifted[mains]
        cons_prob = groups.median(gm, sm, n_groups)
        valid = ~np.isnan(sm)
        near = valid & (np.abs(sm - cons_prob[gm]) <= prm.agree_tol)
        with np.errstate(invalid="ignore", divide="ignore"):
            agreement = np.bincount(gm[near], minlength=n_groups) / np.bincount(
                gm[valid], minlength=n_groups)
        v.update(pline=pline, at_common=at_common, t_star=t_star, shifted=shifted,
                 cons_prob=cons_prob, agreement=agreement,
                 s_min=groups.reduce(gm, sm, n_groups, "min"),
                 s_max=groups.reduce(gm, sm, n_groups, "max"),
                 aware=np.bincount(gm[~valid], minlength=n_groups) == 0,
                 hold_median=groups.median(gm, hold[mains], n_groups))
        return v

    view = market_view((reason == "") & ~np.isnan(p))
    n_books, at_common, t_star = view["n_books"], view["at_common"], view["t_star"]
    cons_prob = view["cons_prob"]

    # What the consensus says at each quote's own line (and at its neighbours).
    cp_q = cons_prob[g] if n else np.zeros(0)
    c_anchor = anchors.assign(line=t_star, prob=cp_q)
    expected = np.where(at_common, cp_q, np.nan)
    off_common = np.flatnonzero(~at_common & (reason == ""))
    with np.errstate(invalid="ignore", divide="ignore"):
        if len(off_common):
            expected[off_common] = no_push_over(prob_fn, c_anchor.iloc[off_common],
                                                t_q[off_common])
        one_sided = (reason == "") & np.isnan(p) & ~(np.isnan(over) & np.isnan(under))
        est = np.where(~np.isnan(over), 1.0 / d_over - _ONE_SIDED_HALF_HOLD,
                       1.0 - (1.0 / d_under - _ONE_SIDED_HALF_HOLD))
        obs = np.where(one_sided, est, p)
        gap = obs - expected
    judged = (reason == "") & ~np.isnan(gap) & (n_books[g] >= prm.min_books)
    off = judged & (np.abs(gap) > prm.prob_tol)
    likely = np.full(n, np.nan)
    rows = np.flatnonzero(off)
    if len(rows):
        best = np.full(len(rows), np.inf)
        sub = c_anchor.iloc[rows]
        for step in _NEIGHBOUR_STEPS:
            nb = threshold(market[rows], line[rows] + step)
            with np.errstate(invalid="ignore", divide="ignore"):
                d = np.abs(obs[rows] - no_push_over(prob_fn, sub, nb))
            better = (d <= prm.prob_tol / 2) & (d < best)
            best = np.where(better, d, best)
            likely[rows] = np.where(better, line[rows] + step, likely[rows])
    flag(off & ~np.isnan(likely), "neighbour_line")
    flag(off, "off_line")
    # Flagged main quotes must not shape the consensus: recompute without them.
    if (off & view["is_main"]).any():
        view = market_view((reason == "") & ~np.isnan(p))
    if n:
        q1, q3, is_main = view["q1"], view["q3"], view["is_main"]
        iqr = q3 - q1
        lo, hi = (q1 - prm.iqr_k * iqr)[g], (q3 + prm.iqr_k * iqr)[g]
        iqr_out = is_main & (view["n_books"][g] >= max(prm.min_books, 4)) & (
            (line < lo) | (line > hi))
        flag(iqr_out, "line_iqr")
    excluded = np.isin(reason, list(EXCLUDING))
    n_books, pline, cons_prob = view["n_books"], view["pline"], view["cons_prob"]
    line_min, line_max = view["line_min"], view["line_max"]
    q = q.assign(reason=pd.Series(reason, index=q.index, dtype=object))
    q = q.assign(prob=p, hold=hold, age_s=age, is_main=view["is_main"],
                 prob_at_common=view["shifted"],
                 expected_prob=expected, prob_gap=gap, likely_line=likely,
                 usable=~excluded, _g=g, _kb=kb, _lk=codes["lk"])

    # Group table, in group-code order.
    heads = groups.first_per(g)
    idx = g[heads]
    keys = q.iloc[heads]
    cons = pd.DataFrame({
        **{c: keys[c].to_numpy() for c in GROUP}, "league": keys["league"].to_numpy(),
        "n_books": n_books[idx].astype(int),
        "n_quotes": np.bincount(g, minlength=n_groups)[idx],
        "consensus_line": view["med_line"][idx], "line_min": line_min[idx],
        "line_max": line_max[idx], "line_spread": (line_max - line_min)[idx],
        "prob_line": pline[idx], "consensus_prob": cons_prob[idx],
        "prob_spread": (view["s_max"] - view["s_min"])[idx],
        "agreement": view["agreement"][idx], "hold_median": view["hold_median"][idx],
        "line_aware": view["aware"][idx],
        "n_flagged": np.bincount(g[excluded], minlength=n_groups)[idx],
    })
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
    need = [*LINE_KEY, "book", "offer_id", "over_price", "under_price", "book_last_update",
            "fetched_at", *(["_lk"] if "_lk" in quotes else [])]
    q = quotes[need][quotes["usable"].to_numpy(dtype=bool)]
    if q.empty:
        return pd.DataFrame(columns=BEST_COLUMNS)
    q = q.reset_index(drop=True)
    lk = groups.combine(q["_lk"].to_numpy()) if "_lk" in q else groups.combine(
        key_codes(q)["lk"])
    n_lines = int(lk.max()) + 1
    d = {"over": decimal_odds(q["over_price"].to_numpy(float)),
         "under": decimal_odds(q["under_price"].to_numpy(float))}
    t = quote_time(q)
    heads = groups.first_per(lk)
    out = pd.DataFrame({c: q[c].to_numpy()[heads] for c in LINE_KEY})
    out["n_books"] = np.bincount(lk, minlength=n_lines)[lk[heads]]
    book = q["book"].to_numpy(dtype=object)
    offer = q["offer_id"].to_numpy(dtype=object)
    tn = pd.DatetimeIndex(t).as_unit("ns").asi8
    leg_t = {}
    for side, dec in d.items():
        has = ~np.isnan(dec)
        pos = np.flatnonzero(has)[groups.first_per(lk[has], -dec[has])]
        slot = np.full(n_lines, -1)
        slot[lk[pos]] = pos
        at = slot[lk[heads]]
        ok = at >= 0
        price = q[f"{side}_price"].to_numpy(float)
        out[f"best_{side}_price"] = np.where(ok, price[at], np.nan)
        out[f"best_{side}_book"] = np.where(ok, book[at], None)
        out[f"best_{side}_offer"] = np.where(ok, offer[at], None)
        out[f"_d_{side}"] = np.where(ok, dec[at], np.nan)
        leg_t[side] = np.where(ok, tn[at], np.iinfo(np.int64).min)
    out["inv_sum"] = 1.0 / out["_d_over"] + 1.0 / out["_d_under"]
    nat = np.iinfo(np.int64).min  # numpy's NaT as int64
    both = (leg_t["over"] != nat) & (leg_t["under"] != nat)
    lo = np.where(both, np.minimum(leg_t["over"], leg_t["under"]), nat)
    hi = np.where(both, np.maximum(leg_t["over"], leg_t["under"]), nat)
    out["oldest_leg_time"] = pd.to_datetime(lo.view("datetime64[ns]"), utc=True)
    out["newest_leg_time"] = pd.to_datetime(hi.view("datetime64[ns]"), utc=True)
    return out[BEST_COLUMNS]


def best_prices(board: pd.DataFrame, *, prob_fn: ProbFn | None = None,
                now: pd.Timestamp | None = None, **guards: object) -> pd.DataFrame:
    """Best usable over and under price (and book) per line; flagged quotes never count."""
    return best_from_screened(screen(board, prob_fn=prob_fn, now=now, **guards).quotes)
