"""Arbitrage windows over a snapshot history: when each arbitrage opened, closed, and paid.

Each quote holds, in the book's own time, from its ``book_last_update`` until its offer's next
snapshot, and no longer than ``max_age`` (``max_age_live`` in-play) after it; a pre-game quote
stops at its game's first in-play quote. Cutting every (game, player, market) timeline at each
of those instants gives cells in which the board of that market is constant. A cell can only
hold an arbitrage after the guards if it holds one before them (guards only remove quotes), so
the raw best prices pick candidate cells and only those are screened exactly as
``arbitrage`` screens a live board (``propsage.analytics.consensus.screen``, line-aware).
Consecutive arbitrage cells of one line make one window.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from propsage.analytics.arbitrage import DEFAULT_MAX_AGE, DEFAULT_MAX_AGE_LIVE
from propsage.analytics.consensus import best_from_screened, screen
from propsage.analytics.distribution import ProbFn
from propsage.analytics.quotes import (
    GROUP,
    LINE_KEY,
    as_quotes,
    as_utc,
    decimal_odds,
    group_codes,
    quote_time,
)

WINDOW_COLUMNS = [
    *LINE_KEY, "opened_at", "closed_at", "duration_s", "max_return_pct", "over_book",
    "under_book", "is_live", "leg_lag_s",
]


def _ns(values: pd.Series) -> np.ndarray:
    return pd.DatetimeIndex(values).as_unit("ns").asi8


def quote_intervals(
    snapshots: pd.DataFrame,
    *,
    max_age: str | pd.Timedelta | None = DEFAULT_MAX_AGE,
    max_age_live: str | pd.Timedelta | None = DEFAULT_MAX_AGE_LIVE,
    end: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Quotable rows with ``start``/``stop`` (ns, book time) during which each quote stood."""
    q = as_quotes(snapshots).reset_index(drop=True)
    if q.empty:
        return q.assign(start=np.zeros(0, np.int64), stop=np.zeros(0, np.int64))
    t = _ns(quote_time(q))
    end_ns = _ns(pd.Series([as_utc(end)]))[0] if end is not None else int(_ns(q["fetched_at"]).max())
    oid = group_codes(q, ["offer_id"])
    order = np.lexsort((np.arange(len(q)), _ns(q["fetched_at"]), oid))
    stop = np.full(len(q), end_ns, dtype=np.int64)
    same = oid[order][1:] == oid[order][:-1]
    stop[order[:-1][same]] = t[order][1:][same]
    live = q["is_live"].to_numpy(bool)
    if max_age is not None:
        stop = np.minimum(stop, t + pd.Timedelta(max_age).value)
    if max_age_live is not None:
        stop = np.where(live, np.minimum(stop, t + pd.Timedelta(max_age_live).value), stop)
    first_live = pd.Series(np.where(live, t, np.iinfo(np.int64).max)).groupby(
        q["game_id"].to_numpy()).transform("min").to_numpy()
    stop = np.where(live, stop, np.minimum(stop, first_live))
    ok = q["is_active"].to_numpy(bool) & ~q["is_suspended"].to_numpy(bool) & (stop > t)
    return q.assign(start=t, stop=stop, first_live=first_live)[ok].reset_index(drop=True)


def arbitrage_windows(
    snapshots: pd.DataFrame,
    *,
    max_age: str | pd.Timedelta | None = DEFAULT_MAX_AGE,
    max_age_live: str | pd.Timedelta | None = DEFAULT_MAX_AGE_LIVE,
    prob_fn: ProbFn | None = None,
    end: pd.Timestamp | None = None,
    **guards: object,
) -> pd.DataFrame:
    """Every stretch of time an arbitrage stood on a line, guarded as ``arbitrage`` is.

    ``leg_lag_s``: at the window's start, how much older (book time) the older leg was than
    the newer one; a large lag means one book had not yet followed a move.
    """
    q = quote_intervals(snapshots, max_age=max_age, max_age_live=max_age_live, end=end)
    if q.empty:
        return pd.DataFrame(columns=WINDOW_COLUMNS)
    start, stop = q["start"].to_numpy(), q["stop"].to_numpy()
    gk = group_codes(q, GROUP)
    ev = pd.DataFrame({"g": np.concatenate([gk, gk]), "x": np.concatenate([start, stop])})
    ev = ev.drop_duplicates().sort_values(["g", "x"]).reset_index(drop=True)
    ev_g, ev_x = ev["g"].to_numpy(), ev["x"].to_numpy()
    # Cell i of a group spans ev_x[i] .. ev_x[i + 1]; find each quote's first and past-last
    # cell by searching (group, dense time rank) pairs folded into one sortable integer.
    uniq = np.unique(ev_x)
    width = np.int64(len(uniq) + 1)
    folded = ev_g.astype(np.int64) * width + np.searchsorted(uniq, ev_x)
    a = np.searchsorted(folded, gk * width + np.searchsorted(uniq, start))
    b = np.searchsorted(folded, gk * width + np.searchsorted(uniq, stop))
    span = b - a
    rep = np.repeat(np.arange(len(q)), span)
    cell = a[rep] + (np.arange(len(rep)) - np.repeat(np.cumsum(span) - span, span))
    # Candidate cells: an arbitrage on some line before any guard.
    lk = group_codes(q, LINE_KEY)
    d_o = decimal_odds(q["over_price"].to_numpy(float))
    d_u = decimal_odds(q["under_price"].to_numpy(float))
    raw = pd.DataFrame({"cell": cell, "lk": lk[rep], "d_o": d_o[rep], "d_u": d_u[rep]})
    best = raw.groupby(["cell", "lk"])[["d_o", "d_u"]].max()
    inv = 1.0 / best["d_o"] + 1.0 / best["d_u"]
    cand = np.unique(inv[inv < 1.0].index.get_level_values("cell"))
    if len(cand) == 0:
        return pd.DataFrame(columns=WINDOW_COLUMNS)
    keep = np.isin(cell, cand)
    rep_c, cell_c = rep[keep], cell[keep]
    board = q.iloc[rep_c].reset_index(drop=True)
    board["_game"] = board["game_id"]
    board["game_id"] = cell_c.astype(str)  # one "game" per cell: screen works cell by cell
    board["is_live"] = ev_x[cell_c] >= board["first_live"].to_numpy()
    sc = screen(board, prob_fn=prob_fn, now=None, max_age=None, max_age_live=None, **guards)
    bp = best_from_screened(sc.quotes)
    bp = bp[(bp["inv_sum"] < 1.0 - 1e-12) & (bp["best_over_book"] != bp["best_under_book"])]
    if bp.empty:
        return pd.DataFrame(columns=WINDOW_COLUMNS)
    bp = bp.assign(cell=bp["game_id"].astype(np.int64))
    bp = bp.sort_values(["market", "player_id", "line", "cell"], kind="stable")
    c = bp["cell"].to_numpy()
    line_key = group_codes(bp.assign(_g=ev_g[c]), ["_g", "player_id", "market", "line"])
    order = np.lexsort((c, line_key))
    bp, c, line_key = bp.iloc[order], c[order], line_key[order]
    new = np.ones(len(c), dtype=bool)
    new[1:] = (line_key[1:] != line_key[:-1]) | (c[1:] != c[:-1] + 1)
    win = np.cumsum(new) - 1
    one_q = pd.Series(np.arange(len(board)), index=board["game_id"].to_numpy())
    one_q = one_q[~one_q.index.duplicated()]
    first_row = board.iloc[one_q.reindex(bp["game_id"].to_numpy()).to_numpy()]
    lag = (pd.DatetimeIndex(bp["newest_leg_time"]).as_unit("ns").asi8
           - pd.DatetimeIndex(bp["oldest_leg_time"]).as_unit("ns").asi8) / 1e9
    w = pd.DataFrame({
        "win": win, "game_id": first_row["_game"].to_numpy(),
        "player_id": bp["player_id"].to_numpy(), "market": bp["market"].to_numpy(),
        "line": bp["line"].to_numpy(float), "start": ev_x[c], "stop": ev_x[c + 1],
        "ret": 100.0 * (1.0 / bp["inv_sum"].to_numpy(float) - 1.0),
        "over_book": bp["best_over_book"].to_numpy(), "under_book": bp["best_under_book"].to_numpy(),
        "is_live": ev_x[c] >= first_row["first_live"].to_numpy(), "lag": lag,
    })
    g = w.groupby("win", sort=True)
    head = g.head(1).set_index("win")
    opened = pd.to_datetime(g["start"].min().to_numpy(), utc=True)
    closed = pd.to_datetime(g["stop"].max().to_numpy(), utc=True)
    out = pd.DataFrame({
        **{col: head[col].to_numpy() for col in LINE_KEY},
        "opened_at": opened, "closed_at": closed,
        "duration_s": (closed - opened).total_seconds().to_numpy(),
        "max_return_pct": g["ret"].max().to_numpy(),
        "over_book": head["over_book"].to_numpy(), "under_book": head["under_book"].to_numpy(),
        "is_live": head["is_live"].to_numpy(bool), "leg_lag_s": head["lag"].to_numpy(float),
    })
    return out[WINDOW_COLUMNS].sort_values("opened_at", kind="stable").reset_index(drop=True)
