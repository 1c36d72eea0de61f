"""The session data store: everything one browser session shows, with no UI.

``DashboardState`` owns the session's filters, its props view (one row per player-market),
the page the table shows, the scoreboard, the alert feeds and the detail chart's data. It is
fed by the event bus through a ``SessionFeed`` (all work happens on the session's loop) and
publishes *what changed* as small update objects the Viewer components apply:

* ``table_update``: a page reset, or a patch of the changed cells plus new rows to stream;
* ``chart_update``: a reset of the selected prop's history, or the new points to stream.

Filtering, sorting and pagination happen here, on the Python side, so the browser only ever
holds one page and receives cell patches (Tabulator re-sends everything when its own filters
or sorters are active). Rows keep their place while they update; the order is recomputed when
a filter, the sort or the page changes, or on ``resort()``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import param

from propsage.domain import EventKind, LiveEvent
from propsage.ui.alerts import OPPORTUNITY_KINDS, STEAM_KINDS, describe
from propsage.ui.history import current_points, empty_points, fair_history, main_line_history
from propsage.ui.props import (
    DISPLAY_COLUMNS,
    SORTS,
    Filters,
    empty_props,
    filter_mask,
    line_moves,
    market_label,
    present,
    prop_keys,
    sort_keys,
    summarize,
)
from propsage.ui.session import Arrival, SessionFeed

log = logging.getLogger(__name__)

# Every session receives the same events: describe each once for all of them. Player names
# are global (a player_id is one person), so the names every session knows are pooled. The
# cache holds the event itself, so its id() cannot be reused while the entry lives.
_DESCRIBED: OrderedDict[int, tuple[LiveEvent, list[dict]]] = OrderedDict()
_NAMES: dict[str, str] = {}
_DESCRIBED_LOCK = threading.Lock()


def _describe_shared(ev: LiveEvent, names: dict[str, str]) -> list[dict]:
    with _DESCRIBED_LOCK:
        hit = _DESCRIBED.get(id(ev))
        if hit is not None and hit[0] is ev:
            return hit[1]
        _NAMES.update(names)
        pooled = dict(_NAMES)
    if isinstance(ev.data, pd.DataFrame) and len(ev.data) > MAX_FEED_ITEMS:
        data_ev = dataclasses.replace(ev, data=ev.data.tail(MAX_FEED_ITEMS))
    else:
        data_ev = ev
    items = describe(data_ev, pooled)
    with _DESCRIBED_LOCK:
        _DESCRIBED[id(ev)] = (ev, items)
        while len(_DESCRIBED) > 1024:
            _DESCRIBED.popitem(last=False)
    return items

MOVE_SECONDS = 3.0        # how long a moved line stays highlighted
STATUS_SECONDS = 2.0      # how often provider health and the scoreboard are re-read
MAX_FEED_ITEMS = 100


@dataclass(slots=True)
class TableUpdate:
    """What the props table must do: 'reset' to ``rows``, or ``patch`` cells and ``stream`` rows."""

    kind: str
    rows: pd.DataFrame | None = None
    patch: dict[str, list[tuple[int, Any]]] = field(default_factory=dict)
    stream: pd.DataFrame | None = None


@dataclass(slots=True)
class ChartUpdate:
    """What the line chart must do: 'clear', 'reset' to the history, or 'stream' new points."""

    kind: str
    title: str = ""
    points: pd.DataFrame | None = None     # t, book, line, prob, over_price, under_price
    fair: pd.DataFrame | None = None       # t, fair_line
    marks: pd.DataFrame | None = None      # t, line, label


# -- a memo shared by sessions: they all receive the same event frames -----------------------
_MEMO: OrderedDict[tuple, tuple[list[weakref.ref], pd.DataFrame, pd.Index]] = OrderedDict()
_MEMO_LOCK = threading.Lock()
_MEMO_SIZE = 64


def summarize_batch(frames: list[pd.DataFrame], book: str = "") -> tuple[pd.DataFrame, pd.Index]:
    """(props summary, every key touched) of ODDS_UPDATE frames, oldest first.

    Memoised on the frames' identity: sessions that drain the same batch (the usual case, a
    poll publishes in well under a tick) summarise it once between them. Each frame holds
    every quote of the player-markets it touches, so the latest row per offer wins.
    """
    memo_key = (tuple(id(f) for f in frames), book)
    with _MEMO_LOCK:
        hit = _MEMO.get(memo_key)
        if hit is not None and all(r() is f for r, f in zip(hit[0], frames, strict=True)):
            _MEMO.move_to_end(memo_key)
            return hit[1], hit[2]
    src = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    if len(frames) > 1 and "id" in src:
        src = src.drop_duplicates("id", keep="last")
    if book:
        src = src[src["book"].astype(object).to_numpy() == book]
    summary = summarize(src)
    touched = prop_keys(src).unique()
    with _MEMO_LOCK:
        _MEMO[memo_key] = ([weakref.ref(f) for f in frames], summary, touched)
        while len(_MEMO) > _MEMO_SIZE:
            _MEMO.popitem(last=False)
    return summary, touched


_GAMES: dict[int, tuple[float, pd.DataFrame]] = {}
GAMES_TTL = 0.5


def games_snapshot(store: Any, now: float, fresh: bool = False) -> pd.DataFrame:
    """``store.games()``, shared by sessions for ``GAMES_TTL`` seconds (a DB read per tick and
    session would be wasted work: the games change once per poll)."""
    with _MEMO_LOCK:
        hit = _GAMES.get(id(store))
        if hit is not None and not fresh and 0 <= now - hit[0] < GAMES_TTL:
            return hit[1]
    games = store.games()
    with _MEMO_LOCK:
        _GAMES[id(store)] = (now, games)
    return games


_DERIVED: OrderedDict[tuple, tuple] = OrderedDict()


def derive_games(games: pd.DataFrame, game_id: str, league: str
                 ) -> tuple[dict[str, str], dict[str, str], pd.DataFrame, list[str]]:
    """(id -> 'Away @ Home', select label -> id, games in scope live first, stale ids),
    memoised per games snapshot and scope (sessions share them)."""
    key = (id(games), game_id, league)
    with _MEMO_LOCK:
        hit = _DERIVED.get(key)
        if hit is not None and hit[0]() is games:
            return hit[1]
    ids = games["id"].astype(object).to_numpy()
    away = games["away_team"].astype(object).to_numpy()
    home = games["home_team"].astype(object).to_numpy()
    status = games["status"].astype(object).to_numpy()
    lg = games["league"].astype(object).to_numpy()
    names = {i: f"{a} @ {h}" for i, a, h in zip(ids, away, home, strict=True)}
    opts = {f"{x.upper()} · {a} @ {h} ({s})": i
            for i, x, a, h, s in zip(ids, lg, away, home, status, strict=True)}
    mask = ids == game_id if game_id else (lg == league if league else np.ones(len(ids), bool))
    rank = np.select([status == "live", status == "scheduled", status == "final"], [0, 1, 2], 3)
    scope = games[mask].assign(_o=rank[mask]).sort_values(["_o", "start_time"]).drop(
        columns="_o").reset_index(drop=True)
    stale = sorted(ids[games["is_stale"].fillna(False).to_numpy(dtype=bool)].tolist()) \
        if "is_stale" in games else []
    out = (names, opts, scope, stale)
    with _MEMO_LOCK:
        _DERIVED[key] = (weakref.ref(games), out)
        while len(_DERIVED) > 32:
            _DERIVED.popitem(last=False)
    return out


def committed_at(arrival: Arrival) -> float:
    """When the event's change was committed (``data.attrs['committed_at']``, wall seconds, if
    the publisher stamped it), else when it was published."""
    data = arrival.event.data
    if isinstance(data, pd.DataFrame):
        stamped = data.attrs.get("committed_at")
        if stamped:
            return float(stamped)
    return arrival.at


class DashboardState(param.Parameterized):
    """One session's view of the live board (see module docstring)."""

    # -- what the user chooses ------------------------------------------------------------
    league = param.String(default="", doc="league code, '' = all")
    game_id = param.String(default="", doc="game id, '' = all")
    market = param.String(default="", doc="Odds API market key, '' = all")
    book = param.String(default="", doc="bookmaker key, '' = best across all books")
    min_edge = param.Number(default=0.0, bounds=(0, None), doc="minimum edge in %, 0 = off")
    live_only = param.Boolean(default=False)
    player = param.String(default="", doc="case-insensitive substring of the player name")
    sort_by = param.Selector(default="Edge", objects=list(SORTS))
    page = param.Integer(default=1, bounds=(1, None))
    page_size = param.Integer(default=50, bounds=(5, 1000))
    selected = param.String(default="", doc="prop key shown in the detail chart")

    # -- what the views show --------------------------------------------------------------
    table_update = param.Parameter(default=None, doc="the latest TableUpdate")
    chart_update = param.Parameter(default=None, doc="the latest ChartUpdate")
    games = param.DataFrame(default=None, doc="games in scope, live first")
    game_options = param.Dict(default={}, doc="label -> game id of every known game")
    market_options = param.List(default=[])
    book_options = param.List(default=[])
    n_rows = param.Integer(default=0, doc="props passing the filters")
    n_total = param.Integer(default=0, doc="props in scope")
    n_pages = param.Integer(default=1)
    provider_name = param.String(default="")
    provider_up = param.Boolean(default=True)
    provider_error = param.String(default="")
    quota = param.Parameter(default=None, doc="provider requests remaining (None: unmetered)")
    stale_games = param.List(default=[])
    last_update = param.Number(default=0.0, doc="wall time (s) of the last applied odds update")
    stamp = param.Number(default=0.0, doc="commit (else publish) time, ms, of the oldest event "
                                          "last applied")
    loading = param.Boolean(default=True)
    heartbeat = param.Number(default=0.0, doc="wall time (s) of the last status refresh")
    steam_items = param.List(default=[])
    opportunity_items = param.List(default=[])

    def __init__(self, runtime: Any, *, schedule: bool = True, interval_ms: int = 250,
                 clock: Any = time.time, **params: Any):
        super().__init__(**params)
        self.runtime = runtime
        self.store = runtime.store
        self.provider = runtime.provider
        self.clock = clock
        self.provider_name = str(getattr(self.provider, "name", ""))
        self._props = empty_props()
        self._view: list[str] = []
        self._pos: dict[str, int] = {}
        self._page_keys: list[str] = []
        self._page_rows = pd.DataFrame(columns=list(DISPLAY_COLUMNS))
        self._moved: dict[str, tuple[int, float]] = {}
        self._teams: dict[str, str] = {}
        self._teams_games: set[str] = set()
        self._names: dict[str, str] = {}
        self._game_names: dict[str, str] = {}
        self._chart_last: dict[str, tuple[float, float, float]] = {}
        self._chart_fair = np.nan
        self._last_status = 0.0
        self._games_seen: pd.DataFrame | None = None
        self.closed = False
        self.stats = {"ticks": 0, "events": 0, "apply_ms": 0.0}
        self._refresh_games()
        self._refresh_status(self.clock())
        self.feed = SessionFeed(runtime.bus, self.topics(), self.on_tick,
                                interval_ms=interval_ms, schedule=schedule)
        self.load()
        self.param.watch(self._on_scope, ["league", "game_id", "book"])
        self.param.watch(self._on_filters,
                         ["market", "min_edge", "live_only", "player", "sort_by", "page_size"])
        self.param.watch(self._on_page, ["page"])
        self.param.watch(self._on_selected, ["selected"])

    # -- scope, loading -------------------------------------------------------------------
    def topics(self) -> list[str]:
        """The bus topics this session needs: its game, else its league, else everything."""
        if self.game_id:
            return [f"game:{self.game_id}"]
        if self.league:
            return [f"league:{self.league}"]
        return ["all"]

    def filters(self) -> Filters:
        """The current filters as a value."""
        return Filters(league=self.league, game_id=self.game_id, market=self.market,
                       min_edge=float(self.min_edge or 0.0), live_only=self.live_only,
                       player=self.player)

    def _scope_board(self) -> pd.DataFrame:
        where, params = ["is_active"], []
        if self.game_id:
            where.append("game_id = ?")
            params.append(self.game_id)
        elif self.league:
            where.append("league = ?")
            params.append(self.league)
        if self.book:
            where.append("book = ?")
            params.append(self.book)
        return self.store.query(f"SELECT * FROM prop_offers WHERE {' AND '.join(where)}", params)

    def load(self) -> None:
        """(Re)load the scope's board from the store and rebuild the view."""
        board = self._scope_board()
        self._props = summarize(board)
        self._moved.clear()
        self.market_options = sorted(self._props["market"].unique().tolist())
        books = self.store.query("SELECT DISTINCT book FROM prop_offers WHERE is_active")
        self.book_options = sorted(books["book"].astype(str).tolist())
        if len(board):
            self.last_update = max(self.last_update, pd.Timestamp(
                board["last_updated"].max()).timestamp())
        self.loading = False if len(board) else self.loading
        self._rebuild()

    def resort(self) -> None:
        """Recompute the order of the rows (they otherwise keep their place while updating)."""
        self._rebuild(keep_page=True)

    def _rebuild(self, keep_page: bool = False) -> None:
        props = self._props
        mask = filter_mask(props, self.filters())
        self._view = sort_keys(props[mask], self.sort_by)
        self._pos = {k: i for i, k in enumerate(self._view)}
        self.n_total = len(props)
        self.n_rows = len(self._view)
        self.n_pages = max(1, -(-self.n_rows // self.page_size))
        page = min(self.page, self.n_pages) if keep_page else 1
        with param.parameterized.discard_events(self):
            self.page = page
        self._emit_reset()

    def _page_range(self) -> tuple[int, int]:
        start = (self.page - 1) * self.page_size
        return start, start + self.page_size

    def _emit_reset(self) -> None:
        start, end = self._page_range()
        self._page_keys = self._view[start:end]
        self._page_rows = self._present(self._page_keys)
        self.table_update = TableUpdate("reset", rows=self._page_rows)

    def page_keys(self) -> list[str]:
        """The keys of the rows the table shows, top to bottom."""
        return list(self._page_keys)

    def page_rows(self) -> pd.DataFrame:
        """The rows the table shows (display strings)."""
        return self._page_rows

    def props(self) -> pd.DataFrame:
        """Every prop in scope (numeric), indexed by key."""
        return self._props

    # -- presentation ---------------------------------------------------------------------
    def _teams_for(self, keys: list[str]) -> dict[str, str]:
        new_games = {k.split("|", 1)[0] for k in keys} - self._teams_games
        if not new_games:
            return self._teams
        team_of = getattr(self.provider, "team_of", None)
        if team_of is None and not self._teams_games:
            try:
                players = self.store.query("SELECT player_id, team FROM players "
                                           "WHERE team IS NOT NULL")
                self._teams.update(dict(zip(players["player_id"], players["team"], strict=True)))
            except Exception:  # the players table is optional
                log.debug("ui: no players table", exc_info=True)
        self._teams_games |= new_games
        if team_of is not None:
            for gid in new_games:
                with contextlib.suppress(KeyError, ValueError):
                    self._teams.update(team_of(gid))
        return self._teams

    def _present(self, keys: list[str]) -> pd.DataFrame:
        if not keys:
            return pd.DataFrame(columns=list(DISPLAY_COLUMNS), dtype=object)
        moves = {k: d for k, (d, _) in self._moved.items()}
        return present(self._props.loc[keys], teams=self._teams_for(keys),
                       games=self._game_names, moves=moves,
                       stale_games=set(self.stale_games))

    def _patch_keys(self, keys: list[str]) -> dict[str, list[tuple[int, Any]]]:
        """Cell patches for page rows whose display changed."""
        index = self._page_index
        on_page = [k for k in dict.fromkeys(keys) if k in index]
        if not on_page:
            return {}
        fresh = self._present(on_page)
        patch: dict[str, list[tuple[int, Any]]] = {}
        for i, key in enumerate(on_page):
            pos = index[key]
            for col in DISPLAY_COLUMNS:
                new = fresh.iat[i, fresh.columns.get_loc(col)]
                if self._page_rows.iat[pos, self._page_rows.columns.get_loc(col)] != new:
                    patch.setdefault(col, []).append((pos, new))
                    self._page_rows.iat[pos, self._page_rows.columns.get_loc(col)] = new
        return patch

    @property
    def _page_index(self) -> dict[str, int]:
        return {k: i for i, k in enumerate(self._page_keys)}

    # -- the tick: events in, updates out -------------------------------------------------
    def on_tick(self, arrivals: list[Arrival]) -> None:
        """Apply what arrived since the last tick (runs on the session's loop)."""
        if self.closed:
            return
        self._tick(arrivals)

    def _tick(self, arrivals: list[Arrival]) -> None:
        t0 = time.perf_counter()
        now = self.clock()
        odds, alerts, games_changed, provider_changed = [], [], False, False
        for a in arrivals:
            ev = a.event
            if not self._in_scope(ev):
                continue
            if ev.kind == EventKind.ODDS_UPDATE and isinstance(ev.data, pd.DataFrame):
                odds.append(a)
            elif ev.kind == EventKind.GAME_STATE:
                games_changed = True
            elif ev.kind == EventKind.PROVIDER_STATUS:
                provider_changed = True
            elif ev.kind in STEAM_KINDS or ev.kind in OPPORTUNITY_KINDS:
                alerts.append(ev)
        if alerts:
            self._add_alerts(alerts)
        patch: dict[str, list[tuple[int, Any]]] = {}
        stream = None
        reset = False
        if odds:
            reset, patch, stream = self._apply_odds(odds, now)
        expired = [k for k, (_, until) in self._moved.items() if until <= now]
        for k in expired:
            del self._moved[k]
        if games_changed or provider_changed or now - self._last_status >= STATUS_SECONDS:
            stale_before = set(self.stale_games)
            self._refresh_games(fresh=provider_changed)
            self._refresh_status(now)
            if set(self.stale_games) != stale_before:
                reset = True
        if reset:
            self._emit_reset()
        else:
            more = self._patch_keys(expired) if expired else {}
            for col, cells in more.items():
                patch.setdefault(col, []).extend(cells)
            if patch or stream is not None:
                self.table_update = TableUpdate("patch", patch=patch, stream=stream)
        if odds:
            self.last_update = now
            self.stamp = min(committed_at(a) for a in odds) * 1000.0
            if self.loading:
                self.loading = False
        self.stats["ticks"] += 1
        self.stats["events"] += len(arrivals)
        self.stats["apply_ms"] = (time.perf_counter() - t0) * 1000.0

    def _in_scope(self, ev: LiveEvent) -> bool:
        if ev.kind == EventKind.PROVIDER_STATUS:
            return True
        if self.game_id and ev.game_id and ev.game_id != self.game_id:
            return False
        return not (self.league and ev.league and ev.league != self.league)

    def _apply_odds(self, odds: list[Arrival], now: float
                    ) -> tuple[bool, dict[str, list[tuple[int, Any]]], pd.DataFrame | None]:
        new, touched_idx = summarize_batch([a.event.data for a in odds], self.book)
        removed = touched_idx.difference(new.index)
        old = self._props
        existing = old.index.intersection(touched_idx)
        for key, d in line_moves(old.loc[old.index.intersection(new.index)], new).items():
            self._moved[key] = (d, now + MOVE_SECONDS)
        self._props = pd.concat([old.drop(index=existing), new]) if len(old) else new
        if len(new):
            known = set(self.market_options)
            fresh = [m for m in new["market"].unique() if m not in known]
            if fresh:
                self.market_options = sorted(known | set(fresh))
        self.n_total = len(self._props)
        if self.selected and self.selected in set(touched_idx):
            self._chart_stream(odds)

        mask = filter_mask(new, self.filters())
        passing = new.index[mask]
        failing = set(new.index[~mask]) | set(removed)
        start, end = self._page_range()
        leaving = [k for k in failing if k in self._pos]
        reset = bool(leaving) and min(self._pos[k] for k in leaving) < end
        if leaving:
            gone = set(leaving)
            self._view = [k for k in self._view if k not in gone]
        joining = [k for k in passing if k not in self._pos]
        old_len = len(self._view)
        if joining:
            self._view.extend(sort_keys(new.loc[joining], self.sort_by))
        if leaving or joining:
            self._pos = {k: i for i, k in enumerate(self._view)}
        self.n_rows = len(self._view)
        self.n_pages = max(1, -(-self.n_rows // self.page_size))
        if reset:
            return True, {}, None
        patch = self._patch_keys(list(new.index) + [k for k in self._moved if k in new.index])
        stream = None
        if joining and old_len < end:
            add = self._view[max(old_len, start):end]
            if add and len(self._page_keys) == max(old_len, start) - start:
                rows = self._present(add)
                self._page_keys = self._page_keys + add
                self._page_rows = pd.concat([self._page_rows, rows], ignore_index=True)
                stream = rows
            elif add:
                return True, {}, None
        return False, patch, stream

    # -- games, provider status -----------------------------------------------------------
    def _refresh_games(self, fresh: bool = False) -> None:
        games = games_snapshot(self.store, time.monotonic(), fresh)
        if games is self._games_seen:
            return
        self._games_seen = games
        names, opts, scope, stale = derive_games(games, self.game_id, self.league)
        self._game_names = names
        if opts != self.game_options:
            self.game_options = opts
        if self.games is None or not scope.equals(self.games):
            self.games = scope
        if stale != self.stale_games:
            self.stale_games = stale

    def _refresh_status(self, now: float) -> None:
        self._last_status = now
        self.heartbeat = now
        health = getattr(self.provider, "health", None)
        if health is None:
            return
        self.provider_up = bool(health.up)
        self.provider_error = str(health.last_error or "") if not health.up else ""
        self.quota = health.requests_remaining

    # -- alerts ---------------------------------------------------------------------------
    def _add_alerts(self, events: list[LiveEvent]) -> None:
        """Add a tick's alert events to the feeds: each feed re-renders once per tick."""
        names = self._player_names()
        steam: list[dict] = []
        opportunities: list[dict] = []
        # Newest first, and only as many as a feed shows: a burst of hundreds of line moves
        # must not cost hundreds of descriptions.
        for ev in reversed(events):
            target = steam if ev.kind in STEAM_KINDS else opportunities
            if len(target) >= MAX_FEED_ITEMS:
                continue
            items = _describe_shared(ev, names)
            target.extend(items[::-1])
        if steam:
            self.steam_items = (steam + self.steam_items)[:MAX_FEED_ITEMS]
            if self.selected and any(it["key"] == self.selected for it in steam):
                self._chart_marks([it for it in steam if it["key"] == self.selected])
        if opportunities:
            self.opportunity_items = (opportunities + self.opportunity_items)[:MAX_FEED_ITEMS]

    def _player_names(self) -> dict[str, str]:
        if not self._names and len(self._props):
            p = self._props[self._props["player_id"] != ""]
            self._names = dict(zip(p["player_id"], p["player_name"], strict=True))
        return self._names

    # -- the detail chart -----------------------------------------------------------------
    def select(self, key: str) -> None:
        """Show the line history of one prop (a key of ``props()``)."""
        self.selected = key

    def select_row(self, position: int) -> None:
        """Show the prop in row ``position`` of the current page."""
        if 0 <= position < len(self._page_keys):
            self.selected = self._page_keys[position]

    def _title(self, key: str) -> str:
        game, player, market = key.split("|", 2)
        who = self._props.at[key, "player_name"] if key in self._props.index else player
        who = who or self._game_names.get(game, game)
        return f"{who} · {market_label(market)}"

    def _on_selected(self, event: param.parameterized.Event) -> None:
        key = event.new
        self._chart_last = {}
        self._chart_fair = np.nan
        if not key:
            self.chart_update = ChartUpdate("clear")
            return
        game, player, market = key.split("|", 2)
        snaps = self.store.query(
            "SELECT prop_offer_id, book, line_numeric, over_price, under_price, fair_line, "
            "is_active, is_suspended, fetched_at FROM odds_snapshots "
            "WHERE game_id = ? AND player_id = ? AND market = ? ORDER BY fetched_at",
            [game, player, market])
        if self.book:
            snaps = snaps[snaps["book"] == self.book]
        points = main_line_history(snaps)
        for book, rows in points.groupby("book"):
            last = rows.iloc[-1]
            self._chart_last[str(book)] = (last["line"], last["over_price"], last["under_price"])
        fair = fair_history(snaps)
        if len(fair):
            self._chart_fair = float(fair["fair_line"].iloc[-1])
        marks = [it for it in self.steam_items if it["key"] == key]
        self.chart_update = ChartUpdate("reset", title=self._title(key), points=points,
                                        fair=fair, marks=self._marks_frame(marks))

    def _chart_stream(self, odds: list[Arrival]) -> None:
        game, player, market = self.selected.split("|", 2)
        new_points = []
        fair_rows = []
        for a in odds:
            rows = a.event.data
            if a.event.game_id != game:
                continue
            sel = rows[(rows["player_id"].astype(object).fillna("").to_numpy() == player)
                       & (rows["market"].astype(object).to_numpy() == market)]
            if self.book:
                sel = sel[sel["book"].astype(object).to_numpy() == self.book]
            if sel.empty:
                continue
            t = pd.Timestamp(a.event.timestamp)
            t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
            pts = current_points(sel, t)
            for p in pts.itertuples(index=False):
                key = (p.line, p.over_price, p.under_price)
                if self._chart_last.get(p.book) != key:
                    self._chart_last[p.book] = key
                    new_points.append(p._asdict())
            if "fair_line" in sel:
                fair = pd.to_numeric(sel["fair_line"], errors="coerce").median()
                if np.isfinite(fair) and fair != self._chart_fair:
                    self._chart_fair = float(fair)
                    fair_rows.append({"t": t, "fair_line": float(fair)})
        if new_points or fair_rows:
            points = pd.DataFrame(new_points) if new_points else empty_points()
            fair = pd.DataFrame(fair_rows, columns=["t", "fair_line"])
            self.chart_update = ChartUpdate("stream", points=points, fair=fair)

    def _marks_frame(self, items: list[dict]) -> pd.DataFrame:
        line = np.nan
        if self.selected in self._props.index:
            line = float(self._props.at[self.selected, "consensus"])
        return pd.DataFrame({"t": [it["t"] for it in items], "line": [line] * len(items),
                             "label": [it["kind"] for it in items]},
                            columns=["t", "line", "label"])

    def _chart_marks(self, items: list[dict]) -> None:
        self.chart_update = ChartUpdate("stream", points=empty_points(),
                                        marks=self._marks_frame(items))

    # -- watchers -------------------------------------------------------------------------
    def _on_scope(self, *events: param.parameterized.Event) -> None:
        self.feed.resubscribe(self.topics())
        self._games_seen = None
        self._refresh_games()
        with param.parameterized.discard_events(self):
            self.page = 1
        self.load()

    def _on_filters(self, *events: param.parameterized.Event) -> None:
        self._rebuild()

    def _on_page(self, event: param.parameterized.Event) -> None:
        self._emit_reset()

    # -- lifecycle ------------------------------------------------------------------------
    def close(self) -> None:
        """Unsubscribe from the bus and drop what the session held (idempotent)."""
        if self.closed:
            return
        self.closed = True
        self.feed.close()
        self._props = empty_props()
        self._view, self._pos, self._page_keys = [], {}, []
        self._moved.clear()
