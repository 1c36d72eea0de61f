"""Incremental analytics: one ``update`` per stored batch, costing what changed.

``AnalyticsEngine.update(board, changed, now)`` looks only at the (game, player, market)
groups that ``changed`` touches: their books' main lines against the last ones it kept (line
and price moves), the recent significant moves of those groups (steam, from where the last
steam of that group and direction ended), and the groups' quotes screened, priced against
each other and searched for arbitrage and middles. Arbitrage stays "open" until its line's
group no longer shows it or a leg outlives its max age; closed ones come back with their
duration. State is per key (dicts and one small buffer of recent moves), so a poll with few
changes is cheap whatever the size of the board.

Differences from the batch functions on the same history: a steam is reported when its k-th
book is seen, with the books seen by then (the batch ``detect_steam`` lists all of them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from propsage.analytics.arbitrage import (
    ARB_COLUMNS, DEFAULT_MAX_AGE, DEFAULT_MAX_AGE_LIVE, MIDDLE_COLUMNS, arbs_from_best, middles,
)
from propsage.analytics.consensus import (
    CONSENSUS_COLUMNS, EXCLUDING, best_from_screened, screen,
)
from propsage.analytics.distribution import NormalApprox, ProbFn
from propsage.analytics.movement import (
    MOVEMENT_COLUMNS, SERIES_COLUMNS, movements_from_series,
)
from propsage.analytics.quotes import (
    BOOK_KEY, GROUP, LINE_KEY, as_quotes, as_utc, group_codes, no_vig_over, quote_time,
)
from propsage.analytics.steam import MEMBER_COLUMNS, STEAM_COLUMNS, assemble, eligible_moves, runs
from propsage.domain import EventKind, LiveEvent

OUTLIER_COLUMNS = ["offer_id", *BOOK_KEY, "line", "over_price", "under_price", "prob",
                   "expected_prob", "prob_gap", "likely_line", "hold", "age_s", "reason"]
CLOSED_COLUMNS = [*LINE_KEY, "over_book", "under_book", "opened_at", "detected_at",
                  "closed_at", "duration_s", "max_return_pct"]


@dataclass(slots=True, frozen=True)
class EngineParams:
    """Thresholds of the incremental analytics (see the batch functions for their meaning)."""

    k: int = 3
    window: pd.Timedelta = pd.Timedelta("15min")
    min_line_move: float = 0.5
    min_prob_move: float = 0.02
    steam_live: bool | None = None           # None: pre-game and in-play moves both count
    max_age: pd.Timedelta | None = DEFAULT_MAX_AGE
    max_age_live: pd.Timedelta | None = DEFAULT_MAX_AGE_LIVE
    prob_tol: float = 0.08
    min_books: int = 3
    bankroll: float = 100.0
    min_return: float = 0.0
    min_middle_ev: float | None = 0.0
    retention: pd.Timedelta = pd.Timedelta("2h")  # how long moves wait for a late steam


@dataclass(slots=True)
class AnalyticsResult:
    """What one update found (frames are empty when nothing did)."""

    now: pd.Timestamp
    movements: pd.DataFrame
    steam: pd.DataFrame
    steam_members: pd.DataFrame
    arbs: pd.DataFrame            # arbitrage standing now in the touched groups
    arbs_opened: pd.DataFrame     # of which newly opened
    arbs_closed: pd.DataFrame     # windows that closed at this update
    middles: pd.DataFrame
    consensus: pd.DataFrame       # touched groups only
    outliers: pd.DataFrame        # flagged quotes of the touched groups
    leagues: dict[str, str] = field(default_factory=dict)

    def events(self) -> list[LiveEvent]:
        """Live events per game: line_movement (significant), steam, arbitrage, middle."""
        out: list[LiveEvent] = []
        ts = self.now.to_pydatetime()
        moves = self.movements[self.movements["significant"].to_numpy(bool)] \
            if len(self.movements) else self.movements
        for kind, frame in ((EventKind.LINE_MOVEMENT, moves), (EventKind.STEAM, self.steam),
                            (EventKind.ARBITRAGE, self.arbs_opened),
                            (EventKind.MIDDLE, self.middles)):
            if frame.empty:
                continue
            for gid, rows in frame.groupby("game_id", sort=False):
                out.append(LiveEvent(kind, str(gid), self.leagues.get(str(gid), ""),
                                     rows.reset_index(drop=True), ts))
        return out


def _empty(cols: list[str]) -> pd.DataFrame:
    return pd.DataFrame(columns=cols)


def _keys(frame: pd.DataFrame, cols: list[str]) -> pd.MultiIndex:
    return pd.MultiIndex.from_frame(frame[cols].astype(object).fillna(""))


def current_main_lines(quotes: pd.DataFrame, touched: pd.MultiIndex,
                       now: pd.Timestamp) -> pd.DataFrame:
    """Main line per touched (game, player, market, book) in a series-shaped frame (dark rows
    for books with nothing quotable)."""
    q = quotes.reset_index(drop=True)
    ok = q["is_active"].to_numpy(bool) & ~q["is_suspended"].to_numpy(bool)
    q = q[ok].reset_index(drop=True)
    prob = no_vig_over(q["over_price"].to_numpy(float), q["under_price"].to_numpy(float))
    dist = np.where(np.isnan(prob), 9.0, np.abs(prob - 0.5))
    kb = group_codes(q, BOOK_KEY)
    line = np.nan_to_num(q["line"].to_numpy(float), nan=0.0)
    order = np.lexsort((line, dist, kb))
    keep = np.ones(len(order), dtype=bool)
    keep[1:] = kb[order][1:] != kb[order][:-1]
    rows = order[keep]
    m = q.iloc[rows][[*BOOK_KEY, "league", "offer_id", "line", "over_price", "under_price",
                      "is_live"]].reset_index(drop=True)
    m["prob"] = prob[rows]
    m["dark"] = False
    m["moved_at"] = quote_time(q).iloc[rows].reset_index(drop=True)
    m["fetched_at"] = now
    found = _keys(m, BOOK_KEY)
    missing = touched[~touched.isin(found)]
    if len(missing):
        d = pd.DataFrame(list(missing), columns=BOOK_KEY)
        d = d.assign(league="", offer_id="", line=np.nan, over_price=np.nan,
                     under_price=np.nan, is_live=False, prob=np.nan, dark=True,
                     moved_at=now, fetched_at=now)
        m = pd.concat([m, d], ignore_index=True) if len(m) else d
    m["fetched_at"] = pd.to_datetime(m["fetched_at"], utc=True)
    m["moved_at"] = pd.to_datetime(m["moved_at"], utc=True)
    return m[SERIES_COLUMNS]


class AnalyticsEngine:
    """Keeps per-key state between polls; ``update`` costs what changed."""

    def __init__(self, params: EngineParams | None = None, prob_fn: ProbFn | None = None):
        self.params = params or EngineParams()
        self.prob_fn = prob_fn or NormalApprox()
        self._last: dict[tuple, dict[str, Any]] = {}       # book key -> last live main line
        self._dark: set[tuple] = set()                      # book keys dark since then
        self._buffer = pd.DataFrame()                        # recent eligible moves
        self._consumed: dict[tuple, int] = {}               # (group, direction) -> ns
        self._open: dict[tuple, dict[str, Any]] = {}        # line key -> open arbitrage

    @property
    def open_arbs(self) -> pd.DataFrame:
        """Arbitrage windows open now."""
        rows = [dict(zip(LINE_KEY, k, strict=True)) | v for k, v in self._open.items()]
        return pd.DataFrame(rows) if rows else _empty([*LINE_KEY, "opened_at"])

    # -- movements --------------------------------------------------------------------------
    def _movements(self, quotes: pd.DataFrame, touched_books: pd.MultiIndex,
                   now: pd.Timestamp) -> pd.DataFrame:
        cur = current_main_lines(quotes, touched_books, now)
        prev_rows = []
        for rec in cur[BOOK_KEY].itertuples(index=False, name=None):
            last = self._last.get(rec)
            if last is not None:
                prev_rows.append(last)
                if rec in self._dark:
                    prev_rows.append(last | {"dark": True, "line": np.nan,
                                             "fetched_at": last["fetched_at"]})
        series = pd.concat([pd.DataFrame(prev_rows, columns=SERIES_COLUMNS), cur],
                           ignore_index=True) if prev_rows else cur
        moves = movements_from_series(series, min_line_move=self.params.min_line_move,
                                      min_prob_move=self.params.min_prob_move)
        for rec in cur.to_dict("records"):
            key = tuple(rec[c] for c in BOOK_KEY)
            if rec["dark"]:
                if key in self._last:
                    self._dark.add(key)
            else:
                self._last[key] = rec
                self._dark.discard(key)
        return moves

    # -- steam ------------------------------------------------------------------------------
    def _steam(self, moves: pd.DataFrame, now: pd.Timestamp) -> tuple[pd.DataFrame,
                                                                      pd.DataFrame]:
        prm = self.params
        new = eligible_moves(moves, prm.steam_live) if len(moves) else moves
        if len(new):
            new = new.assign(_t=pd.DatetimeIndex(new["moved_at"]).as_unit("ns").asi8)
            self._buffer = new if self._buffer.empty else pd.concat([self._buffer, new],
                                                                    ignore_index=True)
        if self._buffer.empty:
            return _empty(STEAM_COLUMNS), _empty(MEMBER_COLUMNS)
        horizon = (now - prm.window - prm.retention).value
        buf = self._buffer[self._buffer["_t"].to_numpy() >= horizon]
        self._buffer = buf
        if new.empty or buf.empty:
            return _empty(STEAM_COLUMNS), _empty(MEMBER_COLUMNS)
        keys = [*GROUP, "direction"]
        touched = _keys(new, keys).unique()
        bk = _keys(buf, keys)
        buf = buf[bk.isin(touched)]
        bk = _keys(buf, keys)
        floor = np.array([self._consumed.get(k, np.iinfo(np.int64).min) for k in bk],
                         dtype=np.int64)
        buf = buf[buf["_t"].to_numpy() > floor]
        if buf.empty:
            return _empty(STEAM_COLUMNS), _empty(MEMBER_COLUMNS)
        buf = buf.assign(_c=group_codes(buf, keys))
        buf = buf.sort_values(["_c", "_t", "timestamp"], kind="stable").reset_index(drop=True)
        found = runs(buf["_c"].to_numpy(), buf["_t"].to_numpy(), buf["book"].tolist(), prm.k,
                     prm.window.value)
        if not found:
            return _empty(STEAM_COLUMNS), _empty(MEMBER_COLUMNS)
        for start, _ in found:
            row = buf.iloc[start]
            key = tuple(row[c] for c in keys)
            self._consumed[key] = max(self._consumed.get(key, 0),
                                      int(row["_t"]) + prm.window.value)
        return assemble(buf, found, prm.k)

    # -- arbitrage windows ------------------------------------------------------------------
    def _track_arbs(self, arbs: pd.DataFrame, touched_groups: pd.MultiIndex,
                    now: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
        prm = self.params
        current = {tuple(r[c] for c in LINE_KEY): r for r in arbs.to_dict("records")}
        opened, closed = [], []
        for key, rec in current.items():
            if key in self._open:
                o = self._open[key]
                o["max_return_pct"] = max(o["max_return_pct"], rec["return_pct"])
                o["oldest_leg_time"] = rec["oldest_leg_time"]
            else:
                self._open[key] = {
                    "over_book": rec["over_book"], "under_book": rec["under_book"],
                    "opened_at": rec["opened_at"], "detected_at": now,
                    "max_return_pct": rec["return_pct"],
                    "oldest_leg_time": rec["oldest_leg_time"], "is_live": rec.get("is_live"),
                }
                opened.append(rec)
        limit = prm.max_age
        for key in list(self._open):
            if key in current:
                continue
            o = self._open[key]
            in_touched = key[:3] in touched_groups
            aged = limit is not None and now - o["oldest_leg_time"] > limit
            if in_touched or aged:
                del self._open[key]
                closed.append(dict(zip(LINE_KEY, key, strict=True)) | {
                    "over_book": o["over_book"], "under_book": o["under_book"],
                    "opened_at": o["opened_at"], "detected_at": o["detected_at"],
                    "closed_at": now, "max_return_pct": o["max_return_pct"]})
        op = pd.DataFrame(opened, columns=ARB_COLUMNS) if opened else _empty(ARB_COLUMNS)
        cl = pd.DataFrame(closed) if closed else _empty(CLOSED_COLUMNS)
        if len(cl):
            cl["duration_s"] = (pd.to_datetime(cl["closed_at"], utc=True)
                                - pd.to_datetime(cl["opened_at"], utc=True)).dt.total_seconds()
            cl = cl[CLOSED_COLUMNS]
        return op, cl

    # -- the poll ---------------------------------------------------------------------------
    def update(self, board: pd.DataFrame, changed: pd.DataFrame,
               now: pd.Timestamp | None = None) -> AnalyticsResult:
        """Analyse the groups ``changed`` touches, given the current ``board`` of their games."""
        prm = self.params
        now = as_utc(now) if now is not None else pd.Timestamp.now(tz="UTC")
        empty = AnalyticsResult(now, _empty(MOVEMENT_COLUMNS), _empty(STEAM_COLUMNS),
                                _empty(MEMBER_COLUMNS), _empty(ARB_COLUMNS), _empty(ARB_COLUMNS),
                                _empty(CLOSED_COLUMNS), _empty(MIDDLE_COLUMNS),
                                _empty(CONSENSUS_COLUMNS), _empty(OUTLIER_COLUMNS))
        if changed is None or changed.empty:
            _, closed = self._track_arbs(_empty(ARB_COLUMNS), pd.MultiIndex.from_tuples(
                [], names=GROUP), now)
            empty.arbs_closed = closed
            return empty
        ch = changed.rename(columns={"prop_offer_id": "offer_id", "line_numeric": "line"})
        ch = ch.assign(player_id=ch["player_id"].fillna("") if "player_id" in ch else "")
        touched_books = _keys(ch, BOOK_KEY).unique()
        touched_groups = touched_books.droplevel("book").unique()
        q = as_quotes(board)
        q = q[_keys(q, GROUP).isin(touched_groups)].reset_index(drop=True)
        leagues = dict(zip(q["game_id"].astype(str), q["league"].astype(str), strict=False))

        moves = self._movements(q, touched_books, now)
        steam, members = self._steam(moves, now)
        sc = screen(q, prob_fn=self.prob_fn, now=now, max_age=prm.max_age,
                    max_age_live=prm.max_age_live, prob_tol=prm.prob_tol,
                    min_books=prm.min_books)
        best = best_from_screened(sc.quotes)
        arbs = arbs_from_best(best, prm.bankroll, prm.min_return)
        opened, closed = self._track_arbs(arbs, touched_groups, now)
        mids = middles(q, prob_fn=self.prob_fn, bankroll=prm.bankroll, now=now,
                       min_ev=prm.min_middle_ev, screened=sc)
        flagged = sc.quotes[np.isin(sc.quotes["reason"].to_numpy(), list(EXCLUDING))
                            | (sc.quotes["reason"] == "line_iqr").to_numpy()]
        return AnalyticsResult(
            now=now, movements=moves, steam=steam, steam_members=members, arbs=arbs,
            arbs_opened=opened, arbs_closed=closed, middles=mids, consensus=sc.consensus,
            outliers=flagged[OUTLIER_COLUMNS].reset_index(drop=True), leagues=leagues)


def as_analyzer(engine: AnalyticsEngine) -> Callable[[pd.DataFrame, Any, pd.Timestamp],
                                                     list[LiveEvent]]:
    """Adapt the engine to ingest's ``Analyzer`` hook: (batch, ChangeSet, now) -> events."""

    def analyze(batch: pd.DataFrame, changes: Any, now: pd.Timestamp) -> list[LiveEvent]:
        parts = [changes.changed[BOOK_KEY]] if len(changes.changed) else []
        if len(changes.withdrawn):
            parts.append(changes.withdrawn.reset_index()[BOOK_KEY])
        changed = pd.concat(parts, ignore_index=True) if parts else _empty(BOOK_KEY)
        analyze.last = engine.update(batch, changed, now)  # type: ignore[attr-defined]
        return analyze.last.events()  # type: ignore[attr-defined]

    analyze.last = None  # type: ignore[attr-defined]
    return analyze
