"""Trends: the consensus through time, its drift, books converging or diverging, quote rate.

``consensus_history`` samples, every ``freq``, each book's main line as it then stood and
summarises each (game, player, market): median line, the line most books quote, the median
no-vig P(over) re-expressed at that line through ``prob_fn`` (line-aware, as in
``consensus``), and the spread of books around it. ``trends`` compares the first and last
samples of a window. Providers give no traded volume, so the number of new or changed quotes
per hour (snapshot rows, withdrawals not counted) stands in for it (the seed's ``volume``
stays optional).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from propsage.analytics.distribution import NormalApprox, ProbFn, no_push_over
from propsage.analytics.movement import main_line_series
from propsage.analytics.quotes import BOOK_KEY, GROUP, as_quotes, as_utc, threshold

HISTORY_COLUMNS = [*GROUP, "at", "n_books", "consensus_line", "prob_line", "consensus_prob",
                   "line_spread", "prob_spread", "n_quotes"]
TREND_COLUMNS = [
    *GROUP, "start", "end", "line_start", "line_end", "line_drift", "prob_start", "prob_end",
    "prob_drift", "prob_drift_per_hour", "spread_start", "spread_end", "spread_change", "status",
    "quotes_per_hour", "n_books",
]


def consensus_history(
    snapshots: pd.DataFrame,
    *,
    freq: str | pd.Timedelta = "15min",
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    prob_fn: ProbFn | None = None,
) -> pd.DataFrame:
    """Per (game, player, market) and sample time: the line-aware consensus of the books."""
    prob_fn = prob_fn or NormalApprox()
    series = main_line_series(snapshots)
    if series.empty:
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    end = as_utc(end) if end is not None else series["fetched_at"].max()
    start = as_utc(start) if start is not None else series["fetched_at"].min()
    step = pd.Timedelta(freq)
    ticks = pd.date_range(start.ceil(step), end, freq=step)
    if len(ticks) == 0:
        ticks = pd.DatetimeIndex([end])
    series = series[series["fetched_at"] <= ticks[-1]].copy()
    series["_kb"] = series.groupby(BOOK_KEY, sort=False).ngroup()
    first_seen = series.groupby("_kb")["fetched_at"].min()
    grid = pd.DataFrame({
        "_kb": np.repeat(first_seen.index.to_numpy(), len(ticks)),
        "at": np.tile(ticks.to_numpy(), len(first_seen)),
    })
    grid["at"] = pd.to_datetime(grid["at"], utc=True).astype(series["fetched_at"].dtype)
    grid = grid[grid["at"].to_numpy() >= first_seen.reindex(grid["_kb"]).to_numpy()]
    left = grid.sort_values("at", kind="stable")
    right = series.sort_values("fetched_at", kind="stable")
    st = pd.merge_asof(left, right, left_on="at", right_on="fetched_at", by="_kb")
    st = st[~st["dark"].fillna(True).astype(bool)]
    if st.empty:
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    keys = [*GROUP, "at"]
    counts = st.groupby([*keys, "line"], dropna=False).size().rename("k").reset_index()
    med = st.groupby(keys)["line"].median().rename("consensus_line")
    counts = counts.merge(med.reset_index(), on=keys)
    counts["_d"] = (counts["line"] - counts["consensus_line"]).abs()
    pl = counts.sort_values([*keys, "k", "_d", "line"], ascending=[True] * len(keys)
                            + [False, True, True]).drop_duplicates(keys)
    st = st.merge(pl[[*keys, "line"]].rename(columns={"line": "prob_line"}), on=keys)
    market = st["market"].to_numpy(object)
    anchors = pd.DataFrame({"market": st["market"], "league": st["league"].fillna(""),
                            "game_id": st["game_id"], "player_id": st["player_id"],
                            "line": threshold(market, st["line"].to_numpy(float)),
                            "prob": st["prob"].to_numpy(float)})
    same = (st["line"] == st["prob_line"]).to_numpy() | st["line"].isna().to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        st["shifted"] = np.where(same, st["prob"], no_push_over(
            prob_fn, anchors, threshold(market, st["prob_line"].to_numpy(float))))
    g = st.groupby(keys)
    out = pd.DataFrame({
        "n_books": g.size(), "consensus_line": g["line"].median(),
        "prob_line": g["prob_line"].first(), "consensus_prob": g["shifted"].median(),
        "line_spread": g["line"].max() - g["line"].min(),
        "prob_spread": g["shifted"].max() - g["shifted"].min(),
    }).reset_index()
    # Quote changes per sample interval: the activity that stands in for volume.
    q = as_quotes(snapshots)
    q = q[q["is_active"].to_numpy(bool) & (q["fetched_at"] > ticks[0] - step)
          & (q["fetched_at"] <= ticks[-1])]
    q = q.assign(at=q["fetched_at"].dt.ceil(step).astype(out["at"].dtype))
    n_q = q.groupby(keys).size().rename("n_quotes")
    out = out.merge(n_q.reset_index(), on=keys, how="left")
    out["n_quotes"] = out["n_quotes"].fillna(0).astype(int)
    return out[HISTORY_COLUMNS].sort_values(keys).reset_index(drop=True)


def trends(
    snapshots: pd.DataFrame,
    *,
    window: str | pd.Timedelta = "2h",
    freq: str | pd.Timedelta = "15min",
    now: pd.Timestamp | None = None,
    prob_fn: ProbFn | None = None,
    spread_tol: float = 0.01,
) -> pd.DataFrame:
    """Per (game, player, market) over ``window``: consensus drift, convergence, quote rate."""
    q = as_quotes(snapshots)
    if q.empty:
        return pd.DataFrame(columns=TREND_COLUMNS)
    now = as_utc(now) if now is not None else q["fetched_at"].max()
    start = now - pd.Timedelta(window)
    hist = consensus_history(q[q["fetched_at"] <= now], freq=freq, start=start, end=now,
                             prob_fn=prob_fn)
    if hist.empty:
        return pd.DataFrame(columns=TREND_COLUMNS)
    g = hist.groupby(GROUP, sort=False)
    first, last = g.head(1).set_index(GROUP), g.tail(1).set_index(GROUP)
    hours = (last["at"] - first["at"]).dt.total_seconds() / 3600.0
    in_window = q[q["is_active"].to_numpy(bool) & (q["fetched_at"] > start)
                  & (q["fetched_at"] <= now)]
    n_quotes = in_window.groupby(GROUP).size().reindex(first.index).fillna(0)
    change = last["prob_spread"] - first["prob_spread"]
    out = pd.DataFrame({
        "start": first["at"], "end": last["at"],
        "line_start": first["consensus_line"], "line_end": last["consensus_line"],
        "line_drift": last["consensus_line"] - first["consensus_line"],
        "prob_start": first["consensus_prob"], "prob_end": last["consensus_prob"],
        "prob_drift": last["consensus_prob"] - first["consensus_prob"],
        "prob_drift_per_hour": (last["consensus_prob"] - first["consensus_prob"])
        / hours.where(hours > 0),
        "spread_start": first["prob_spread"], "spread_end": last["prob_spread"],
        "spread_change": change,
        "status": np.where(change < -spread_tol, "converging",
                           np.where(change > spread_tol, "diverging", "stable")),
        "quotes_per_hour": n_quotes / (pd.Timedelta(window).total_seconds() / 3600.0),
        "n_books": last["n_books"],
    }).reset_index()
    return out[TREND_COLUMNS]
