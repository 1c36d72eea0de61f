"""Line movement: each book's main line through time, its moves, and velocity.

A book often lists several lines of one player-market; its *main line* is the active,
unsuspended line whose no-vig P(over) is nearest 0.5 (ties: the lower line; one-sided quotes
only when nothing two-sided is left). A change of main line (6.5 -> 7.5) is a ``line`` move
even though the offer id changes; a change of price on the same line is a ``price`` move, sized
by the change of no-vig P(over). Moves that follow a suspension or a stretch with no active
line (or a fetch gap longer than ``max_gap``) are marked ``after_gap``: their timing is unknown.

``moved_at`` is the book's own time of the quote (``book_last_update``, else ``fetched_at``);
``timestamp`` is when we saw it (``fetched_at``). All functions work on sorted copies.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from propsage.analytics.quotes import (
    BOOK_KEY,
    as_quotes,
    as_timedelta,
    as_utc,
    direction_sign,
    group_codes,
    no_vig_over,
    quote_time,
)

SERIES_COLUMNS = [
    *BOOK_KEY, "league", "offer_id", "line", "over_price", "under_price", "prob", "dark",
    "is_live", "moved_at", "fetched_at",
]
MOVEMENT_COLUMNS = [
    "prop_offer_id", *BOOK_KEY, "league", "kind", "from_line", "to_line", "from_odds", "to_odds",
    "from_prob", "to_prob", "line_move", "prob_move", "movement_size", "velocity", "direction",
    "significant", "after_gap", "is_live", "prev_moved_at", "moved_at", "timestamp",
]
_NS = 1_000_000_000


def _ns(s: pd.Series) -> np.ndarray:
    return pd.DatetimeIndex(s).as_unit("ns").asi8


def main_line_series(snapshots: pd.DataFrame) -> pd.DataFrame:
    """One row per (game, player, market, book) and fetch time: the main line as it then stood.

    ``snapshots`` is an append-on-change history (``odds_snapshots``): a row per new or changed
    quote, ``is_active`` False when the book withdrew it. ``dark`` rows: nothing quotable.
    """
    q = as_quotes(snapshots).reset_index(drop=True)
    n = len(q)
    if n == 0:
        return pd.DataFrame(columns=SERIES_COLUMNS)
    prob = no_vig_over(q["over_price"].to_numpy(float), q["under_price"].to_numpy(float))
    t = _ns(q["fetched_at"])
    kb = group_codes(q, BOOK_KEY)
    order = np.lexsort((np.arange(n), t, kb))
    kb_l = kb[order].tolist()
    t_l = t[order].tolist()
    oid_l = q["offer_id"].to_numpy(dtype=object)[order].tolist()
    ok_l = (q["is_active"].to_numpy(bool) & ~q["is_suspended"].to_numpy(bool))[order].tolist()
    dist = np.where(np.isnan(prob), 9.0, np.abs(prob - 0.5))
    dist_l = dist[order].tolist()
    line_l = np.nan_to_num(q["line"].to_numpy(float), nan=0.0)[order].tolist()
    pos_l = order.tolist()
    out_main: list[int] = []
    out_first: list[int] = []
    out_t: list[int] = []
    offers: dict[object, int] = {}
    cur = -1
    first = 0
    for i in range(n):
        c = kb_l[i]
        if c != cur:
            cur, offers, first = c, {}, pos_l[i]
        if ok_l[i]:
            offers[oid_l[i]] = i
        else:
            offers.pop(oid_l[i], None)
        if i + 1 < n and kb_l[i + 1] == c and t_l[i + 1] == t_l[i]:
            continue
        best, best_key = -1, (10.0, 0.0)
        for j in offers.values():
            key = (dist_l[j], line_l[j])
            if key < best_key:
                best, best_key = j, key
        out_main.append(pos_l[best] if best >= 0 else -1)
        out_first.append(first)
        out_t.append(t_l[i])
    main = np.asarray(out_main, dtype=np.int64)
    dark = main < 0
    src = np.where(dark, np.asarray(out_first, dtype=np.int64), main)
    res = q.iloc[src][[*BOOK_KEY, "league", "offer_id", "line", "over_price", "under_price",
                       "is_live"]].reset_index(drop=True)
    res["prob"] = prob[src]
    res["dark"] = dark
    for col in ("line", "over_price", "under_price", "prob"):
        res[col] = np.where(dark, np.nan, res[col].to_numpy(dtype=float))
    res["offer_id"] = res["offer_id"].where(~dark, "")
    res["fetched_at"] = pd.to_datetime(np.asarray(out_t, dtype="datetime64[ns]"), utc=True)
    res["moved_at"] = quote_time(q).iloc[src].reset_index(drop=True)
    res["moved_at"] = res["moved_at"].where(~dark, res["fetched_at"])
    return res[SERIES_COLUMNS]


def movements_from_series(
    series: pd.DataFrame,
    *,
    min_line_move: float = 0.5,
    min_prob_move: float = 0.02,
    max_gap: str | pd.Timedelta | None = None,
    book_codes: np.ndarray | None = None,
) -> pd.DataFrame:
    """Moves between consecutive live main-line states of each book (series in time order).

    ``book_codes``: precomputed integer codes of each row's (game, player, market, book).
    """
    s = series.reset_index(drop=True)
    if s.empty:
        return pd.DataFrame(columns=MOVEMENT_COLUMNS)
    kb = group_codes(s, BOOK_KEY) if book_codes is None else np.asarray(book_codes)
    order = np.lexsort((np.arange(len(s)), _ns(s["fetched_at"]), kb))
    s = s.iloc[order].reset_index(drop=True)
    kb = kb[order]
    dark = s["dark"].to_numpy(bool)
    # A dark state marks the next live state of the same book as after a gap.
    darks_before = np.cumsum(dark)
    live = np.flatnonzero(~dark)
    if len(live) < 2:
        return pd.DataFrame(columns=MOVEMENT_COLUMNS)
    a, b = live[:-1], live[1:]
    same = kb[a] == kb[b]
    a, b = a[same], b[same]
    line = s["line"].to_numpy(float)
    over = s["over_price"].to_numpy(float)
    under = s["under_price"].to_numpy(float)
    prob = s["prob"].to_numpy(float)

    def differs(x: np.ndarray) -> np.ndarray:
        return ~((x[a] == x[b]) | (np.isnan(x[a]) & np.isnan(x[b])))

    line_changed = differs(line)
    moved = line_changed | differs(over) | differs(under)
    a, b, line_changed = a[moved], b[moved], line_changed[moved]
    if len(a) == 0:
        return pd.DataFrame(columns=MOVEMENT_COLUMNS)
    d_line = np.where(line_changed, line[b] - line[a], 0.0)
    d_prob = prob[b] - prob[a]
    fetched = _ns(s["fetched_at"])
    moved_at = _ns(s["moved_at"])
    after_gap = darks_before[b] > darks_before[a]
    if max_gap is not None:
        after_gap |= (fetched[b] - fetched[a]) > as_timedelta(max_gap).value
    minutes = (moved_at[b] - moved_at[a]) / (60 * _NS)
    with np.errstate(divide="ignore", invalid="ignore"):
        velocity = np.where(minutes > 0, d_line / minutes, np.nan)
    market = s["market"].to_numpy(object)[b]
    direction = np.where(line_changed, np.sign(d_line) * direction_sign(market),
                         np.sign(np.nan_to_num(d_prob)))
    significant = np.where(line_changed, np.abs(d_line) >= min_line_move,
                           np.abs(np.nan_to_num(d_prob)) >= min_prob_move)
    to = s.iloc[b].reset_index(drop=True)
    out = pd.DataFrame({
        "prop_offer_id": to["offer_id"], **{c: to[c] for c in BOOK_KEY}, "league": to["league"],
        "kind": np.where(line_changed, "line", "price"),
        "from_line": line[a], "to_line": line[b], "from_odds": over[a], "to_odds": over[b],
        "from_prob": prob[a], "to_prob": prob[b], "line_move": d_line, "prob_move": d_prob,
        "movement_size": np.abs(d_line), "velocity": velocity,
        "direction": direction.astype(np.int64), "significant": significant,
        "after_gap": after_gap, "is_live": to["is_live"].to_numpy(bool),
        "prev_moved_at": s["moved_at"].iloc[a].reset_index(drop=True),
        "moved_at": to["moved_at"],
        "timestamp": to["fetched_at"],
    })
    return out[MOVEMENT_COLUMNS]


def line_movements(
    snapshots: pd.DataFrame,
    *,
    min_line_move: float = 0.5,
    min_prob_move: float = 0.02,
    max_gap: str | pd.Timedelta | None = None,
    significant_only: bool = False,
) -> pd.DataFrame:
    """Every main-line and same-line price move in a snapshot history, oldest first."""
    moves = movements_from_series(main_line_series(snapshots), min_line_move=min_line_move,
                                  min_prob_move=min_prob_move, max_gap=max_gap)
    if significant_only:
        moves = moves[moves["significant"].to_numpy(bool)]
    return moves.sort_values(["timestamp", "moved_at"], kind="stable").reset_index(drop=True)


def velocity(
    snapshots: pd.DataFrame,
    *,
    window: str | pd.Timedelta = "30min",
    now: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Per (game, player, market, book): main-line and no-vig change per minute over ``window``.

    The change is from the main line as it stood at ``now - window`` (or at its first sighting
    inside the window) to the latest one, divided by the minutes between those two points.
    """
    series = main_line_series(snapshots)
    cols = [*BOOK_KEY, "line_start", "line_end", "prob_start", "prob_end", "minutes",
            "line_velocity", "prob_velocity", "n_moves"]
    live = series[~series["dark"].to_numpy(bool)]
    if live.empty:
        return pd.DataFrame(columns=cols)
    now = as_utc(now) if now is not None else live["fetched_at"].max()
    start = now - pd.Timedelta(window)
    upto = live[live["fetched_at"] <= now]
    before = upto[upto["fetched_at"] <= start].groupby(BOOK_KEY, sort=False).tail(1)
    inside = upto[upto["fetched_at"] > start]
    first_in = inside.groupby(BOOK_KEY, sort=False).head(1)
    begin = pd.concat([before, first_in]).drop_duplicates(BOOK_KEY, keep="first")
    end = upto.groupby(BOOK_KEY, sort=False).tail(1)
    m = begin.merge(end, on=BOOK_KEY, suffixes=("_s", "_e"))
    # A state known before the window spans all of it; a first sighting inside it, the rest.
    t0 = m["fetched_at_s"].where(m["fetched_at_s"] > start, start)
    minutes = (now - t0).dt.total_seconds() / 60
    moves = movements_from_series(series[series["fetched_at"] <= now])
    moves = moves[moves["timestamp"] > start]
    n_moves = moves.groupby(BOOK_KEY, sort=False).size().rename("n_moves")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pd.DataFrame({
            **{c: m[c] for c in BOOK_KEY},
            "line_start": m["line_s"], "line_end": m["line_e"],
            "prob_start": m["prob_s"], "prob_end": m["prob_e"], "minutes": minutes,
            "line_velocity": (m["line_e"] - m["line_s"]) / minutes.where(minutes > 0),
            "prob_velocity": (m["prob_e"] - m["prob_s"]) / minutes.where(minutes > 0),
        })
    out = out.merge(n_moves.reset_index(), on=BOOK_KEY, how="left")
    out["n_moves"] = out["n_moves"].fillna(0).astype(int)
    return out[cols].reset_index(drop=True)
