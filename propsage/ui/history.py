"""Line history of one player-market per book, for the line-movement chart (pure functions).

A book may quote several lines of one market (alternates). Its *main* line at a moment is its
active line whose no-vig P(over) is nearest 0.5; the chart follows that line and its no-vig
probability. Snapshots store only quotes that changed, so the history replays them per book.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from propsage.odds import no_vig_two_way

POINT_COLUMNS = ["t", "book", "line", "prob", "over_price", "under_price"]


def empty_points() -> pd.DataFrame:
    """A points frame without rows."""
    return pd.DataFrame({
        "t": pd.Series(dtype="datetime64[us, UTC]"), "book": pd.Series(dtype=object),
        "line": pd.Series(dtype=float), "prob": pd.Series(dtype=float),
        "over_price": pd.Series(dtype=float), "under_price": pd.Series(dtype=float),
    })


def _prob(over: np.ndarray, under: np.ndarray) -> np.ndarray:
    p, _ = no_vig_two_way(np.asarray(over, dtype=float), np.asarray(under, dtype=float))
    return np.asarray(p, dtype=float)


def main_quote(quotes: pd.DataFrame) -> pd.Series | None:
    """The main quote among one book's active quotes (line, over, under, prob), or None."""
    if quotes.empty:
        return None
    p = _prob(quotes["over_price"].to_numpy(float), quotes["under_price"].to_numpy(float))
    dist = np.where(np.isnan(p), 9.0, np.abs(p - 0.5))
    i = int(np.argmin(dist))
    row = quotes.iloc[i]
    return pd.Series({"line": float(row["line"]), "over_price": float(row["over_price"]),
                      "under_price": float(row["under_price"]), "prob": float(p[i])})


def current_points(rows: pd.DataFrame, at: pd.Timestamp) -> pd.DataFrame:
    """One point per book at ``at`` from offer rows (``prop_offers`` spelling) of one market."""
    if rows is None or rows.empty:
        return empty_points()
    df = rows.rename(columns={"line_numeric": "line"})
    if "is_active" in df:
        df = df[df["is_active"].fillna(False).astype(bool).to_numpy()]
    out = []
    for book, quotes in df.groupby("book", sort=True):
        q = main_quote(quotes)
        if q is not None:
            out.append({"t": at, "book": str(book), **q.to_dict()})
    if not out:
        return empty_points()
    res = pd.DataFrame(out)
    res["t"] = pd.to_datetime(res["t"], utc=True).astype("datetime64[us, UTC]")
    return res[POINT_COLUMNS]


def main_line_history(snaps: pd.DataFrame) -> pd.DataFrame:
    """Per book, its main line and no-vig P(over) after each stored change, oldest first.

    ``snaps``: ``odds_snapshots`` rows of one player-market (any order). A point is emitted
    only when the book's main quote changed.
    """
    if snaps is None or snaps.empty:
        return empty_points()
    df = snaps.sort_values("fetched_at", kind="stable")
    out = []
    for book, rows in df.groupby("book", sort=True):
        state: dict[str, tuple[float, float, float]] = {}   # offer id -> (line, over, under)
        last = None
        for t, batch in rows.groupby("fetched_at", sort=True):
            for r in batch.itertuples(index=False):
                if bool(r.is_active):
                    state[r.prop_offer_id] = (r.line_numeric, r.over_price, r.under_price)
                else:
                    state.pop(r.prop_offer_id, None)
            if not state:
                continue
            quotes = pd.DataFrame(list(state.values()),
                                  columns=["line", "over_price", "under_price"])
            q = main_quote(quotes)
            key = (q["line"], q["over_price"], q["under_price"])
            if key != last:
                out.append({"t": t, "book": str(book), **q.to_dict()})
                last = key
    if not out:
        return empty_points()
    res = pd.DataFrame(out).sort_values("t", kind="stable").reset_index(drop=True)
    res["t"] = pd.to_datetime(res["t"], utc=True).astype("datetime64[us, UTC]")
    return res[POINT_COLUMNS]


def fair_history(snaps: pd.DataFrame) -> pd.DataFrame:
    """The model's fair line over time (median across the books' snapshots at each time)."""
    if snaps is None or snaps.empty or "fair_line" not in snaps:
        return pd.DataFrame({"t": pd.Series(dtype="datetime64[us, UTC]"),
                             "fair_line": pd.Series(dtype=float)})
    df = snaps[["fetched_at", "fair_line"]].dropna()
    res = df.groupby("fetched_at", sort=True)["fair_line"].median().reset_index()
    res.columns = ["t", "fair_line"]
    res["t"] = pd.to_datetime(res["t"], utc=True).astype("datetime64[us, UTC]")
    return res
