"""Arbitrage and middles across books, guarded against false signals.

*Arbitrage*: on one line (same game, player, market and point) the best over and the best
under, from different books, with 1/d_over + 1/d_under < 1. Staking each side in proportion to
its inverse odds pays bankroll / inv_sum whatever happens: a return of 1/inv_sum - 1.
Only ``usable`` quotes count (see ``propsage.analytics.consensus.screen``): not suspended, not
older than ``max_age``, not a pre-game quote on a live game, not an impossible own hold, not
off the consensus at its line (a price under the wrong line fakes most arbs).

*Middles*: the over at a lower threshold t_o at one book and the under at a higher threshold
t_u at another both win when t_o < X < t_u. With integer outcomes, five states: X < t_o, X = t_o
(over pushes), between, X = t_u (under pushes), X > t_u; their probabilities come from the
outcome distribution (``prob_fn``, anchored at the consensus), the stakes equalise the two
payouts, ``cost`` is what is lost when only one side wins and ``ev`` the expected profit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from propsage.analytics.consensus import Screened, best_from_screened, screen
from propsage.analytics.distribution import (
    NormalApprox, ProbFn, survival_at_least, survival_over,
)
from propsage.analytics.quotes import (
    GROUP, LINE_KEY, as_quotes, as_utc, decimal_odds, group_codes, quote_time, threshold,
)

ARB_COLUMNS = [
    *LINE_KEY, "over_book", "over_price", "under_book", "under_price", "inv_sum", "return_pct",
    "stake_over", "stake_under", "payout", "profit", "opened_at", "oldest_leg_time",
]
MIDDLE_COLUMNS = [
    *GROUP, "over_line", "over_book", "over_price", "under_line", "under_book", "under_price",
    "gap", "hit_prob", "push_prob", "stake_over", "stake_under", "cost", "ev", "ev_pct",
]
# A pre-game quote can rest for hours (NFL: median 3.5 h between changes); an in-play one
# changes every few minutes, so one untouched for 10 minutes is taken as no longer offered.
DEFAULT_MAX_AGE = pd.Timedelta("12h")
DEFAULT_MAX_AGE_LIVE = pd.Timedelta("10min")


def _ages(max_age: str | pd.Timedelta | None,
          max_age_live: str | pd.Timedelta | None) -> dict[str, pd.Timedelta | None]:
    return {"max_age": None if max_age is None else pd.Timedelta(max_age),
            "max_age_live": None if max_age_live is None else pd.Timedelta(max_age_live)}


def arbs_from_best(best: pd.DataFrame, bankroll: float = 100.0,
                   min_return: float = 0.0) -> pd.DataFrame:
    """Arbitrage rows from a best-price table."""
    b = best[(best["inv_sum"] < 1.0 / (1.0 + min_return) - 1e-12)
             & (best["best_over_book"] != best["best_under_book"])]
    if b.empty:
        return pd.DataFrame(columns=ARB_COLUMNS)
    inv_o = 1.0 / decimal_odds(b["best_over_price"].to_numpy(float))
    inv_u = 1.0 / decimal_odds(b["best_under_price"].to_numpy(float))
    inv = b["inv_sum"].to_numpy(float)
    out = pd.DataFrame({
        **{c: b[c].to_numpy() for c in LINE_KEY},
        "over_book": b["best_over_book"].to_numpy(), "over_price": b["best_over_price"].to_numpy(),
        "under_book": b["best_under_book"].to_numpy(),
        "under_price": b["best_under_price"].to_numpy(),
        "inv_sum": inv, "return_pct": 100.0 * (1.0 / inv - 1.0),
        "stake_over": bankroll * inv_o / inv, "stake_under": bankroll * inv_u / inv,
        "payout": bankroll / inv, "profit": bankroll / inv - bankroll,
        "oldest_leg_time": b["oldest_leg_time"].to_numpy(),
    })
    out["opened_at"] = b["newest_leg_time"].to_numpy()
    return out[ARB_COLUMNS].reset_index(drop=True)


def arbitrage(
    board: pd.DataFrame,
    *,
    bankroll: float = 100.0,
    max_age: str | pd.Timedelta | None = DEFAULT_MAX_AGE,
    max_age_live: str | pd.Timedelta | None = DEFAULT_MAX_AGE_LIVE,
    now: pd.Timestamp | None = None,
    min_return: float = 0.0,
    prob_fn: ProbFn | None = None,
    screened: Screened | None = None,
    **guards: object,
) -> pd.DataFrame:
    """Arbitrage on matching lines across books, with stakes for ``bankroll``."""
    sc = screened or screen(board, prob_fn=prob_fn, now=now, **_ages(max_age, max_age_live),
                            **guards)
    best = best_from_screened(sc.quotes)
    return arbs_from_best(best, bankroll, min_return)


def middles(
    board: pd.DataFrame,
    *,
    prob_fn: ProbFn | None = None,
    bankroll: float = 100.0,
    max_age: str | pd.Timedelta | None = DEFAULT_MAX_AGE,
    max_age_live: str | pd.Timedelta | None = DEFAULT_MAX_AGE_LIVE,
    now: pd.Timestamp | None = None,
    min_ev: float | None = 0.0,
    max_gap: float | None = None,
    screened: Screened | None = None,
    **guards: object,
) -> pd.DataFrame:
    """Over-low / under-high pairs across lines with hit and push probabilities, cost and EV."""
    prob_fn = prob_fn or NormalApprox()
    sc = screened or screen(board, prob_fn=prob_fn, now=now, **_ages(max_age, max_age_live),
                            **guards)
    best = best_from_screened(sc.quotes)
    if best.empty:
        return pd.DataFrame(columns=MIDDLE_COLUMNS)
    t = threshold(best["market"].to_numpy(object), best["line"].to_numpy(float))
    best = best.assign(_t=t)
    o = best[best["best_over_price"].notna()][[*GROUP, "line", "_t", "best_over_price",
                                               "best_over_book"]]
    u = best[best["best_under_price"].notna()][[*GROUP, "line", "_t", "best_under_price",
                                                "best_under_book"]]
    pairs = o.merge(u, on=GROUP, suffixes=("_o", "_u"))
    pairs = pairs[pairs["_t_o"] < pairs["_t_u"]]
    if max_gap is not None:
        pairs = pairs[pairs["_t_u"] - pairs["_t_o"] <= max_gap]
    if pairs.empty:
        return pd.DataFrame(columns=MIDDLE_COLUMNS)
    cons = sc.consensus.set_index(GROUP)
    key = pd.MultiIndex.from_frame(pairs[GROUP])
    c = cons.reindex(key)
    anchors = pd.DataFrame({
        "game_id": pairs["game_id"].to_numpy(), "player_id": pairs["player_id"].to_numpy(),
        "market": pairs["market"].to_numpy(), "league": c["league"].fillna("").to_numpy(),
        "line": threshold(pairs["market"].to_numpy(object), c["prob_line"].to_numpy(float)),
        "prob": c["consensus_prob"].to_numpy(float),
    })
    t_o, t_u = pairs["_t_o"].to_numpy(float), pairs["_t_u"].to_numpy(float)
    over_o, least_o = survival_over(prob_fn, anchors, t_o), survival_at_least(prob_fn, anchors, t_o)
    over_u, least_u = survival_over(prob_fn, anchors, t_u), survival_at_least(prob_fn, anchors, t_u)
    p_below = 1.0 - least_o          # over loses, under wins
    p_push_o = least_o - over_o      # over pushes, under wins
    p_hit = over_o - least_u         # both win
    p_push_u = least_u - over_u      # over wins, under pushes
    p_above = over_u                 # over wins, under loses
    d_o = decimal_odds(pairs["best_over_price"].to_numpy(float))
    d_u = decimal_odds(pairs["best_under_price"].to_numpy(float))
    inv_o, inv_u = 1.0 / d_o, 1.0 / d_u
    s_o = bankroll * inv_o / (inv_o + inv_u)
    s_u = bankroll - s_o
    ev = (p_below * (s_u * d_u) + p_push_o * (s_o + s_u * d_u) + p_hit * (s_o * d_o + s_u * d_u)
          + p_push_u * (s_o * d_o + s_u) + p_above * (s_o * d_o)) - bankroll
    out = pd.DataFrame({
        **{col: pairs[col].to_numpy() for col in GROUP},
        "over_line": pairs["line_o"].to_numpy(), "over_book": pairs["best_over_book"].to_numpy(),
        "over_price": pairs["best_over_price"].to_numpy(),
        "under_line": pairs["line_u"].to_numpy(),
        "under_book": pairs["best_under_book"].to_numpy(),
        "under_price": pairs["best_under_price"].to_numpy(),
        "gap": t_u - t_o, "hit_prob": p_hit, "push_prob": p_push_o + p_push_u,
        "stake_over": s_o, "stake_under": s_u, "cost": bankroll - s_o * d_o, "ev": ev,
        "ev_pct": 100.0 * ev / bankroll,
    })
    if min_ev is not None:
        out = out[out["ev"] >= min_ev]
    return out.sort_values("ev", ascending=False, kind="stable")[MIDDLE_COLUMNS].reset_index(
        drop=True)


WINDOW_COLUMNS = [
    *LINE_KEY, "opened_at", "closed_at", "duration_s", "max_return_pct", "over_book",
    "under_book", "is_live",
]


def arbitrage_windows(
    snapshots: pd.DataFrame,
    *,
    max_age: str | pd.Timedelta | None = DEFAULT_MAX_AGE,
    max_age_live: str | pd.Timedelta | None = DEFAULT_MAX_AGE_LIVE,
    prob_tol: float = 0.08,
    min_books: int = 3,
    hold_min: float = -0.01,
    end: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Every stretch of time an arbitrage stood on a line, from a snapshot history.

    Each quote holds, in the book's own time, from its ``book_last_update`` until its offer's
    next snapshot, and no longer than ``max_age`` (``max_age_live`` in-play) after it; a
    pre-game quote stops at the game's first in-play quote.
    Same guards as ``arbitrage`` except that off-consensus quotes are judged against the
    median no-vig probability of the books on the same line at that moment (>= ``min_books``),
    without a distribution. Windows still open at the end of the data close at ``end``.
    """
    q = as_quotes(snapshots).reset_index(drop=True)
    if q.empty:
        return pd.DataFrame(columns=WINDOW_COLUMNS)
    t = pd.DatetimeIndex(quote_time(q)).as_unit("ns").asi8
    end_ns = (pd.DatetimeIndex([as_utc(end)]).as_unit("ns").asi8[0] if end is not None
              else int(pd.DatetimeIndex(q["fetched_at"]).as_unit("ns").asi8.max()))
    oid = group_codes(q, ["offer_id"])
    order = np.lexsort((np.arange(len(q)), t, oid))
    nxt = np.full(len(q), end_ns, dtype=np.int64)
    same = oid[order][1:] == oid[order][:-1]
    nxt[order[:-1][same]] = t[order][1:][same]
    stop = nxt.copy()
    live = q["is_live"].to_numpy(bool)
    if max_age is not None:
        stop = np.minimum(stop, t + pd.Timedelta(max_age).value)
    if max_age_live is not None:
        stop = np.where(live, np.minimum(stop, t + pd.Timedelta(max_age_live).value), stop)
    first_live = pd.Series(np.where(live, t, np.iinfo(np.int64).max)).groupby(
        q["game_id"].to_numpy()).transform("min").to_numpy()
    stop = np.where(live, stop, np.minimum(stop, first_live))
    over, under = q["over_price"].to_numpy(float), q["under_price"].to_numpy(float)
    d_o, d_u = decimal_odds(over), decimal_odds(under)
    with np.errstate(invalid="ignore"):
        own = 1.0 / d_o + 1.0 / d_u - 1.0
    ok = (q["is_active"].to_numpy(bool) & ~q["is_suspended"].to_numpy(bool) & (stop > t)
          & ~(own < hold_min))
    q = q[ok].reset_index(drop=True)
    t, stop, d_o, d_u, first_live = t[ok], stop[ok], d_o[ok], d_u[ok], first_live[ok]
    if q.empty:
        return pd.DataFrame(columns=WINDOW_COLUMNS)
    p = 1.0 / d_o / (1.0 / d_o + 1.0 / d_u)
    lk = group_codes(q, LINE_KEY)
    # Elementary intervals per line: between consecutive distinct start/stop times.
    ev = pd.DataFrame({"lk": np.concatenate([lk, lk]), "x": np.concatenate([t, stop])})
    ev = ev.drop_duplicates().sort_values(["lk", "x"]).reset_index(drop=True)
    ev_lk, ev_x = ev["lk"].to_numpy(), ev["x"].to_numpy()
    # Position of each quote's start and stop among its line's event times: search the
    # (line, dense time rank) pairs folded into one sortable integer.
    uniq = np.unique(ev_x)
    width = np.int64(len(uniq) + 1)
    folded = ev_lk.astype(np.int64) * width + np.searchsorted(uniq, ev_x)
    a = np.searchsorted(folded, lk * width + np.searchsorted(uniq, t))
    b = np.searchsorted(folded, lk * width + np.searchsorted(uniq, stop))
    span = b - a
    rep = np.repeat(np.arange(len(q)), span)
    offsets = np.arange(len(rep)) - np.repeat(np.cumsum(span) - span, span)
    cell = a[rep] + offsets
    x = pd.DataFrame({"cell": cell, "q": rep, "d_o": d_o[rep], "d_u": d_u[rep], "p": p[rep]})
    # Off-consensus guard: same-line median of two-sided quotes, when enough books.
    cnt = x.groupby("cell")["p"].transform("count").to_numpy()
    med = x.groupby("cell")["p"].transform("median").to_numpy()
    with np.errstate(invalid="ignore"):
        off = (cnt >= min_books) & (np.abs(x["p"].to_numpy() - med) > prob_tol)
    x = x[~off]
    best_o = x.groupby("cell")["d_o"].max()
    best_u = x.groupby("cell")["d_u"].max()
    cells = pd.DataFrame({"d_o": best_o, "d_u": best_u})
    cells["inv"] = 1.0 / cells["d_o"] + 1.0 / cells["d_u"]
    arb = cells[cells["inv"] < 1.0 - 1e-12].copy()
    if arb.empty:
        return pd.DataFrame(columns=WINDOW_COLUMNS)
    books = q["book"].to_numpy(object)
    xo = x.merge(arb[["d_o"]].reset_index(), on=["cell", "d_o"]).drop_duplicates("cell")
    xu = x.merge(arb[["d_u"]].reset_index(), on=["cell", "d_u"]).drop_duplicates("cell")
    arb["over_book"] = pd.Series(books[xo["q"].to_numpy()], index=xo["cell"].to_numpy())
    arb["under_book"] = pd.Series(books[xu["q"].to_numpy()], index=xu["cell"].to_numpy())
    arb = arb[arb["over_book"] != arb["under_book"]]
    if arb.empty:
        return pd.DataFrame(columns=WINDOW_COLUMNS)
    c = arb.index.to_numpy()
    # Merge consecutive arbitrage cells of one line into windows.
    c_lk = ev_lk[c]
    new = np.ones(len(c), dtype=bool)
    new[1:] = (c[1:] != c[:-1] + 1) | (c_lk[1:] != c_lk[:-1])
    win = np.cumsum(new) - 1
    _, one_q = np.unique(lk, return_index=True)  # a quote of each line, for its keys
    w = pd.DataFrame({
        "win": win, "lk": c_lk, "start": ev_x[c], "stop": ev_x[np.minimum(c + 1, len(ev_x) - 1)],
        "ret": 100.0 * (1.0 / arb["inv"].to_numpy() - 1.0),
        "over_book": arb["over_book"].to_numpy(), "under_book": arb["under_book"].to_numpy(),
        "q": one_q[c_lk],
    })
    g = w.groupby("win")
    head = g.head(1).set_index("win")
    keys = q.iloc[head["q"].to_numpy()]
    opened = pd.to_datetime(g["start"].min().to_numpy(), utc=True)
    closed = pd.to_datetime(g["stop"].max().to_numpy(), utc=True)
    out = pd.DataFrame({
        **{col: keys[col].to_numpy() for col in LINE_KEY},
        "opened_at": opened, "closed_at": closed,
        "duration_s": (closed - opened).total_seconds().to_numpy(),
        "max_return_pct": g["ret"].max().to_numpy(),
        "over_book": head["over_book"].to_numpy(), "under_book": head["under_book"].to_numpy(),
        "is_live": g["start"].min().to_numpy() >= first_live[head["q"].to_numpy()],
    })
    return out[WINDOW_COLUMNS]
