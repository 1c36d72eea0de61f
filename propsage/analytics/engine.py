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

from propsage.analytics import groups
from propsage.analytics.arbitrage import (
    ARB_COLUMNS,
    DEFAULT_MAX_AGE,
    DEFAULT_MAX_AGE_LIVE,
    MIDDLE_COLUMNS,
    arbs_from_best,
    middles,
)
from propsage.analytics.consensus import CONSENSUS_COLUMNS, best_from_screened, screen
from propsage.analytics.distribution import NormalApprox, ProbFn
from propsage.analytics.movement import MOVEMENT_COLUMNS, movements_from_series
from propsage.analytics.quotes import (
    BOOK_KEY,
    GROUP,
    LINE_KEY,
    as_quotes,
    as_utc,
    no_vig_over,
    quote_time,
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
    retention: pd.Timedelta = pd.Timedelta("30min")  # how late a book's move may arrive


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


_EMPTY: dict[tuple[str, ...], pd.DataFrame] = {}


def _empty(cols: list[str]) -> pd.DataFrame:
    key = tuple(cols)
    if key not in _EMPTY:
        _EMPTY[key] = pd.DataFrame(columns=cols)
    return _EMPTY[key].copy()


class _BookStates:
    """The last live main line of every (game, player, market, book), by a persistent id."""

    _FLOAT = ("line", "over_price", "under_price", "prob")
    _INT = ("moved_at", "fetched_at")
    _OBJ = ("offer_id", "league", *BOOK_KEY)

    def __init__(self) -> None:
        self.index = pd.Index([], dtype=object)   # "game|player|market|book" -> id
        self.offers = pd.Index([], dtype=object)  # offer id -> position in offer_book
        self.offer_book = np.zeros(0, dtype=np.int64)
        self.cap = 0
        self._alloc(1024)

    def _alloc(self, cap: int) -> None:
        old = self.cap
        self.cap = cap

        def grow(name: str, fill: object, dtype: object) -> None:
            arr = np.full(cap, fill, dtype=dtype)
            if old:
                arr[:old] = getattr(self, name)
            setattr(self, name, arr)

        for f in self._FLOAT:
            grow(f, np.nan, float)
        for f in self._INT:
            grow(f, 0, np.int64)
        for f in ("known", "gap", "is_live"):
            grow(f, False, bool)
        for f in self._OBJ:
            grow(f, "", object)

    def lookup(self, cols: dict[str, np.ndarray]) -> np.ndarray:
        """Ids of the books whose key columns are ``cols``, registering new ones."""
        keys = cols["game_id"] + "|" + cols["player_id"] + "|" + cols["market"] + "|" + cols[
            "book"] if len(cols["book"]) else np.zeros(0, dtype=object)
        ids = self.index.get_indexer(keys)
        new = ids < 0
        if new.any():
            fresh, first = np.unique(keys[new], return_index=True)
            start = len(self.index)
            self.index = self.index.append(pd.Index(fresh, dtype=object))
            if len(self.index) > self.cap:
                self._alloc(max(2 * self.cap, len(self.index)))
            rows = np.flatnonzero(new)[first]
            for c in BOOK_KEY:
                getattr(self, c)[start:start + len(fresh)] = cols[c][rows]
            ids = self.index.get_indexer(keys)
        return ids


    def lookup_offers(self, q: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
        """Book ids of the quotes ``rows`` of ``q`` (an offer always belongs to one book)."""
        oids = q["offer_id"].to_numpy(dtype=object)[rows]
        pos = self.offers.get_indexer(oids)
        out = np.where(pos >= 0, self.offer_book[np.maximum(pos, 0)], -1) if len(
            self.offer_book) else np.full(len(rows), -1, dtype=np.int64)
        miss = out < 0
        if miss.any():
            out[miss] = self.lookup(_columns(q, rows[miss], BOOK_KEY))
            fresh, first = np.unique(oids[miss], return_index=True)
            self.offers = self.offers.append(pd.Index(fresh, dtype=object))
            self.offer_book = np.concatenate([self.offer_book, out[miss][first]])
        return out


def _columns(frame: pd.DataFrame, rows: np.ndarray, cols: list[str]) -> dict[str, np.ndarray]:
    return {c: frame[c].to_numpy(dtype=object)[rows] for c in cols}


class AnalyticsEngine:
    """Keeps per-key state between polls; ``update`` costs what changed."""

    def __init__(self, params: EngineParams | None = None, prob_fn: ProbFn | None = None):
        self.params = params or EngineParams()
        self.prob_fn = prob_fn or NormalApprox()
        self._books = _BookStates()
        self._buffer = pd.DataFrame()                        # recent eligible moves
        self._consumed: dict[tuple, int] = {}               # (group, direction) -> ns
        self._open: dict[tuple, dict[str, Any]] = {}        # line key -> open arbitrage

    @property
    def open_arbs(self) -> pd.DataFrame:
        """Arbitrage windows open now."""
        rows = [dict(zip(LINE_KEY, k, strict=True)) | v for k, v in self._open.items()]
        return pd.DataFrame(rows) if rows else _empty([*LINE_KEY, "opened_at"])

    # -- movements --------------------------------------------------------------------------
    def _movements(self, q: pd.DataFrame, kb: np.ndarray, dark: dict[str, np.ndarray],
                   now: pd.Timestamp) -> pd.DataFrame:
        """Main-line moves of the touched books: ``q`` holds every quote of their groups,
        ``kb`` its book codes; ``dark`` the key columns of touched books with no quote left."""
        st = self._books
        ok = q["is_active"].to_numpy(bool) & ~q["is_suspended"].to_numpy(bool)
        prob = no_vig_over(q["over_price"].to_numpy(float), q["under_price"].to_numpy(float))
        dist = np.where(ok, np.where(np.isnan(prob), 9.0, np.abs(prob - 0.5)), np.inf)
        line = q["line"].to_numpy(float)
        first = groups.first_per(kb, dist, np.nan_to_num(line, nan=0.0))
        live_rows = first[ok[first]]
        dark_rows = first[~ok[first]]
        cur_ids = st.lookup_offers(q, live_rows)
        off_board = _columns(q, dark_rows, BOOK_KEY)
        dark_ids = st.lookup({c: np.concatenate([off_board[c], dark[c]]) for c in BOOK_KEY})
        now_ns = now.value
        moved = pd.DatetimeIndex(quote_time(q)).as_unit("ns").asi8[live_rows]
        cur = {
            "league": q["league"].to_numpy(object)[live_rows],
            "offer_id": q["offer_id"].to_numpy(object)[live_rows],
            "line": line[live_rows], "prob": prob[live_rows],
            "over_price": q["over_price"].to_numpy(float)[live_rows],
            "under_price": q["under_price"].to_numpy(float)[live_rows],
            "is_live": q["is_live"].to_numpy(bool)[live_rows], "moved_at": moved,
            "fetched_at": np.full(len(cur_ids), now_ns, dtype=np.int64),
        }
        # Only books with a previous state whose main quote differs can have moved.
        known = st.known[cur_ids]
        differs = np.zeros(len(cur_ids), dtype=bool)
        for f in ("line", "over_price", "under_price"):
            a, b = getattr(st, f)[cur_ids], cur[f]
            differs |= ~((a == b) | (np.isnan(a) & np.isnan(b)))
        moving = np.flatnonzero(known & differs)
        # Series rows: previous live state (+ a dark marker if it went dark since), then now.
        prev = cur_ids[moving]
        gap = prev[st.gap[prev]]
        n_prev, n_gap = len(prev), len(gap)

        def col(name: str) -> np.ndarray:
            arr = getattr(st, name)
            return np.concatenate([arr[prev], arr[gap], cur[name][moving]])

        ids = np.concatenate([prev, gap, cur_ids[moving]])
        series = pd.DataFrame({c: getattr(st, c)[ids] for c in BOOK_KEY})
        for f in ("league", "offer_id", "line", "over_price", "under_price", "prob", "is_live"):
            series[f] = col(f)
        series["dark"] = np.concatenate([np.zeros(n_prev, bool), np.ones(n_gap, bool),
                                         np.zeros(len(moving), bool)])
        series["moved_at"] = pd.to_datetime(col("moved_at"), utc=True)
        series["fetched_at"] = pd.to_datetime(col("fetched_at"), utc=True)
        moves = movements_from_series(series, min_line_move=self.params.min_line_move,
                                      min_prob_move=self.params.min_prob_move, book_codes=ids)
        # Remember: live books take their new state, dark ones keep the last and note the gap.
        for name, values in cur.items():
            getattr(st, name)[cur_ids] = values
        st.known[cur_ids], st.gap[cur_ids] = True, False
        st.gap[dark_ids] = st.known[dark_ids]
        return moves

    # -- steam ------------------------------------------------------------------------------
    def _steam(self, moves: pd.DataFrame, now: pd.Timestamp) -> tuple[pd.DataFrame,
                                                                      pd.DataFrame]:
        """Steam runs among the recent moves of the (group, direction)s that just moved."""
        prm = self.params
        new = eligible_moves(moves, prm.steam_live) if len(moves) else moves
        if len(new):
            key = (new["game_id"].to_numpy(object) + "|" + new["player_id"].to_numpy(object)
                   + "|" + new["market"].to_numpy(object) + "|"
                   + new["direction"].astype(str).to_numpy(object))
            new = new.assign(_t=pd.DatetimeIndex(new["moved_at"]).as_unit("ns").asi8,
                             _key=pd.Series(key, index=new.index, dtype=object))
            self._buffer = new if self._buffer.empty else pd.concat([self._buffer, new],
                                                                    ignore_index=True)
        if self._buffer.empty:
            return _empty(STEAM_COLUMNS), _empty(MEMBER_COLUMNS)
        # Keep moves that may still start or join a run: recent, and past their key's last
        # steam window (a consumed move never counts again).
        buf = self._buffer
        floor = buf["_key"].map(self._consumed).fillna(np.iinfo(np.int64).min).to_numpy()
        t = buf["_t"].to_numpy()
        buf = buf[(t >= (now - prm.window - prm.retention).value) & (t > floor)]
        self._buffer = buf
        if new.empty or buf.empty:
            return _empty(STEAM_COLUMNS), _empty(MEMBER_COLUMNS)
        buf = buf[buf["_key"].isin(pd.unique(new["_key"]))]
        if buf.empty:
            return _empty(STEAM_COLUMNS), _empty(MEMBER_COLUMNS)
        buf = buf.assign(_c=groups.factor(buf["_key"].to_numpy(object)))
        buf = buf.sort_values(["_c", "_t", "timestamp", "book"], kind="stable").reset_index(
            drop=True)
        found = runs(buf["_c"].to_numpy(), buf["_t"].to_numpy(), buf["book"].tolist(), prm.k,
                     prm.window.value)
        if not found:
            return _empty(STEAM_COLUMNS), _empty(MEMBER_COLUMNS)
        for start, _ in found:
            key, t0 = buf["_key"].iat[start], int(buf["_t"].iat[start])
            self._consumed[key] = max(self._consumed.get(key, 0), t0 + prm.window.value)
        return assemble(buf, found, prm.k)

    # -- arbitrage windows ------------------------------------------------------------------
    def _track_arbs(self, arbs: pd.DataFrame, touched_groups: set[tuple],
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
                    "oldest_leg_time": rec["oldest_leg_time"],
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
            _, closed = self._track_arbs(_empty(ARB_COLUMNS), set(), now)
            empty.arbs_closed = closed
            return empty
        everything = changed is board
        ch = changed.rename(columns={"prop_offer_id": "offer_id", "line_numeric": "line"})
        if "player_id" not in ch:
            ch = ch.assign(player_id="")
        q = as_quotes(board)
        # Board codes per key column; the changed rows are looked up in the same code space.
        raw_g = np.zeros(len(q), dtype=np.int64)
        raw_gc = np.zeros(len(ch), dtype=np.int64)
        known = np.ones(len(ch), dtype=bool)
        raw = {}
        for c in BOOK_KEY:
            codes, uniq = pd.factorize(q[c].to_numpy(object))
            width = len(uniq) + 1
            found = codes if everything else pd.Index(uniq).get_indexer(
                ch[c].fillna("").to_numpy(object))
            known &= found >= 0
            if c == "game_id":
                game = codes
            if c == "book":
                raw = {"kb": raw_g * width + codes, "kbc": raw_gc * width + found}
            else:
                raw_g, raw_gc = raw_g * width + codes, raw_gc * width + found
                known_g = known.copy()
        keep = np.ones(len(q), dtype=bool) if everything else np.isin(raw_g, raw_gc[known_g])
        q = q[keep].reset_index(drop=True) if not keep.all() else q
        kb = groups.combine(raw["kb"][keep])
        # Touched books with no quote left on the board went dark.
        gone = np.zeros(len(ch), dtype=bool) if everything else (
            ~known | ~np.isin(raw["kbc"], raw["kb"][keep]))
        dark = {c: ch[c].fillna("").to_numpy(object)[gone] for c in BOOK_KEY}
        game = game[keep].astype(np.int64)
        heads = groups.first_per(game)
        leagues = dict(zip(q["game_id"].to_numpy(object)[heads].tolist(),
                           q["league"].to_numpy(object)[heads].tolist(), strict=True))
        g = groups.combine(raw_g[keep])
        codes = {"game": game, "g": g, "kb": kb,
                 "lk": groups.combine(g, groups.factor(q["line"].to_numpy(float)))}
        # Groups of open arbitrage windows that this poll re-examined (few: built lazily).
        touched_groups: set[tuple] = set()
        if self._open and len(q):
            heads = groups.first_per(g)
            touched_groups = set(zip(*(q[c].to_numpy(object)[heads] for c in GROUP),
                                     strict=True))

        moves = self._movements(q, kb, dark, now)
        steam, members = self._steam(moves, now)
        sc = screen(q, prob_fn=self.prob_fn, now=now, max_age=prm.max_age,
                    max_age_live=prm.max_age_live, prob_tol=prm.prob_tol,
                    min_books=prm.min_books, normalized=True, codes=codes)
        best = best_from_screened(sc.quotes)
        arbs = arbs_from_best(best, prm.bankroll, prm.min_return)
        opened, closed = self._track_arbs(arbs, touched_groups, now)
        mids = middles(q, prob_fn=self.prob_fn, bankroll=prm.bankroll, now=now,
                       min_ev=prm.min_middle_ev, screened=sc, best=best)
        flagged = sc.quotes[(sc.quotes["reason"] != "").to_numpy()]
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
