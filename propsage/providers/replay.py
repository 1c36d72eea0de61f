"""Replay recorded Odds API responses as a provider, with the capture times as the clock.

A capture file is JSON Lines (optionally gzipped), one response a line:
``{"snapshot_time": ISO, "endpoint": "/sports/<sport>/odds", "params": {...}, "status": 200,
"data": <the response JSON>}``. ``endpoint``/``status`` may be missing (the MIT NFL captures
have only ``snapshot_time`` and ``data``: a featured ``/odds`` list); the kind is then read from
the data. A bare ``.json`` response file also loads (its time: the latest ``last_update`` in it).

``ReplayProvider(source, speed=60)`` runs a clock that starts at the first capture and moves
``speed`` times faster than the wall clock; ``now()`` is that clock, and ``get_games`` /
``get_offers`` serve the latest capture of each kind at or before it. ``speed=None`` holds the
clock still until ``step()`` (tests, backfills). ``finished()`` turns true once the last capture
has been served. ``replay_into(store, provider)`` pushes every capture into a store as fast as
possible (one batch per capture time, ``now`` = capture time).
"""

from __future__ import annotations

import bisect
import gzip
import json
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from propsage.domain import Game, GameStatus, empty_offers
from propsage.providers.base import BaseProvider, ProviderError
from propsage.providers.parse import Parsed, parse_games, parse_odds, snapshot_time, unwrap

log = logging.getLogger(__name__)

_TIME = re.compile(r'"snapshot_time"\s*:\s*"([^"]+)"')
_ENDPOINT = re.compile(r'"endpoint"\s*:\s*"([^"]+)"')
_STATUS = re.compile(r'"status"\s*:\s*(\d+)')
_KINDS = [
    ("event_odds", re.compile(r"^(?:/v4)?(?:/historical)?/sports/([^/]+)/events/([^/]+)/odds/?$")),
    ("odds", re.compile(r"^(?:/v4)?(?:/historical)?/sports/([^/]+)/odds/?$")),
    ("events", re.compile(r"^(?:/v4)?(?:/historical)?/sports/([^/]+)/events/?$")),
    ("scores", re.compile(r"^(?:/v4)?/sports/([^/]+)/scores/?$")),
    ("sports", re.compile(r"^(?:/v4)?/sports/?$")),
]


def classify(endpoint: str) -> tuple[str, str, str]:
    """(kind, sport, event_id) of an endpoint path; kind '' when unknown."""
    for kind, pattern in _KINDS:
        m = pattern.match(endpoint.split("?", 1)[0])
        if m:
            groups = m.groups()
            return kind, groups[0] if groups else "", groups[1] if len(groups) > 1 else ""
    return "", "", ""


def _infer(data: Any) -> tuple[str, str, str]:
    """(kind, sport, event_id) of a response without an endpoint, from its shape."""
    data, _ = unwrap(data)
    if isinstance(data, dict) and "bookmakers" in data:
        return "event_odds", str(data.get("sport_key", "")), str(data.get("id", ""))
    if isinstance(data, list) and data and isinstance(data[0], dict):
        first = data[0]
        sport = str(first.get("sport_key", ""))
        if "completed" in first:
            return "scores", sport, ""
        if "bookmakers" in first:
            return "odds", sport, ""
        if "home_team" in first:
            return "events", sport, ""
        if "group" in first:
            return "sports", "", ""
    return "", "", ""


@dataclass(slots=True)
class Capture:
    """One recorded response; its JSON is parsed lazily from ``line``."""

    time: pd.Timestamp
    kind: str
    sport: str
    event_id: str
    line: str | None = None
    _data: Any = field(default=None, repr=False)
    _loaded: bool = False

    def payload(self) -> Any:
        """The response JSON (historical wrapper removed); recent ones are memoised."""
        if self._loaded:
            return self._data
        key = id(self)
        with _LRU_LOCK:
            hit = _LRU.get(key)
            if hit is not None and hit[0] is self:
                _LRU.move_to_end(key)
                return hit[1]
        record = json.loads(self.line) if self.line is not None else {}
        data = unwrap(record.get("data"))[0] if "data" in record else None
        with _LRU_LOCK:
            _LRU[key] = (self, data)
            while len(_LRU) > 16:
                _LRU.popitem(last=False)
        return data


# Parsed JSON of the few captures in use (a week of captures parsed at once is ~0.5 GB).
_LRU: OrderedDict[int, tuple[Capture, Any]] = OrderedDict()
_LRU_LOCK = threading.Lock()


def _open(path: Path):  # noqa: ANN202
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else \
        open(path, encoding="utf-8")


def _files(source: Path | str | Iterable[Path | str]) -> list[Path]:
    if isinstance(source, str | Path):
        source = [source]
    out: list[Path] = []
    for s in source:
        p = Path(s)
        if p.is_dir():
            out += sorted(q for q in p.iterdir()
                          if q.name.endswith((".jsonl", ".jsonl.gz", ".json", ".json.gz")))
        elif p.exists():
            out.append(p)
        else:
            raise FileNotFoundError(f"capture source {p} does not exist")
    return out


def read_captures(source: Path | str | Iterable[Path | str]) -> list[Capture]:
    """Every successful response in the capture files of ``source`` (file, folder or list)."""
    caps: list[Capture] = []
    for path in _files(source):
        is_lines = ".jsonl" in path.name
        with _open(path) as fh:
            if not is_lines:
                data = json.load(fh)
                stamp = snapshot_time(data)
                if stamp is None:
                    log.warning("replay: %s has no timestamp; skipped", path)
                    continue
                kind, sport, eid = _infer(data)
                caps.append(Capture(stamp, kind, sport, eid, _data=unwrap(data)[0], _loaded=True))
                continue
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                caps.append(_capture_of_line(line, path, n))
    caps = [c for c in caps if c is not None and c.kind]
    caps.sort(key=lambda c: c.time)
    return caps


def _capture_of_line(line: str, path: Path, n: int) -> Capture | None:
    head = line[:4096]   # the metadata fields come before "data" in both capture formats
    status = _STATUS.search(head)
    if status and int(status.group(1)) != 200:
        return None
    t = _TIME.search(head)
    ep = _ENDPOINT.search(head)
    if t and ep:
        kind, sport, eid = classify(ep.group(1))
        return Capture(pd.Timestamp(t.group(1)).tz_convert("UTC"), kind, sport, eid, line=line)
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        log.warning("replay: %s line %d is not JSON; skipped", path, n)
        return None
    if record.get("status", 200) != 200 or "data" not in record:
        return None
    data = record["data"]
    stamp = record.get("snapshot_time") or record.get("timestamp")
    when = pd.Timestamp(stamp).tz_convert("UTC") if stamp else snapshot_time(data)
    if when is None:
        return None
    kind, sport, eid = classify(record["endpoint"]) if record.get("endpoint") else _infer(data)
    return Capture(when, kind, sport, eid, _data=unwrap(data)[0], _loaded=True)


def ticks(times: list[pd.Timestamp], coalesce: float) -> list[pd.Timestamp]:
    """Clock ticks of sorted capture times: a run with gaps under ``coalesce`` seconds (the
    responses of one recorded poll) becomes one tick at its last time."""
    out: list[pd.Timestamp] = []
    for i, t in enumerate(times):
        nxt = times[i + 1] if i + 1 < len(times) else None
        if nxt is None or (nxt - t).total_seconds() >= coalesce:
            out.append(t)
    return out


class CaptureLog:
    """Captures indexed by (kind, sport, event) for "latest at or before t" lookups.

    ``times`` are the clock ticks: the distinct capture times, with the responses of one
    recorded poll (less than ``coalesce`` seconds apart) merged into one tick.
    """

    def __init__(self, captures: list[Capture], *, coalesce: float = 2.0):
        if not captures:
            raise ValueError("no captures to replay")
        self.captures = sorted(captures, key=lambda c: c.time)
        self.times = ticks(sorted({c.time for c in self.captures}), coalesce)
        self._index: dict[tuple[str, str, str], tuple[list[pd.Timestamp], list[Capture]]] = {}
        for c in self.captures:
            ts, cs = self._index.setdefault((c.kind, c.sport, c.event_id), ([], []))
            ts.append(c.time)
            cs.append(c)

    @classmethod
    def load(cls, source: Path | str | Iterable[Path | str]) -> CaptureLog:
        """Read and index the captures of a file, folder or list of them."""
        return cls(read_captures(source))

    def latest(self, kind: str, at: pd.Timestamp, sport: str = "", event_id: str = ""
               ) -> Capture | None:
        """The last capture of this kind (sport, event) at or before ``at``."""
        hit = self._index.get((kind, sport, event_id))
        if hit is None:
            return None
        i = bisect.bisect_right(hit[0], at) - 1
        return hit[1][i] if i >= 0 else None

    def sports(self) -> list[str]:
        """Sport keys that appear in the captures."""
        return sorted({c.sport for c in self.captures if c.sport})

    def prop_events(self, sport: str, at: pd.Timestamp) -> list[Capture]:
        """The latest per-event odds capture of each event of ``sport`` at or before ``at``."""
        out = []
        for (kind, s, eid), _ in self._index.items():
            if kind == "event_odds" and s == sport:
                c = self.latest(kind, at, s, eid)
                if c is not None:
                    out.append(c)
        return out

    def events_at(self, sport: str, at: pd.Timestamp) -> list[dict]:
        """Event objects (id, teams, commence_time, sport) known for ``sport`` at ``at``."""
        seen: dict[str, dict] = {}
        for kind in ("events", "odds"):
            c = self.latest(kind, at, sport)
            if c is not None and isinstance(c.payload(), list):
                for e in c.payload():
                    if isinstance(e, dict) and "id" in e:
                        seen.setdefault(e["id"], e)
        for c in self.prop_events(sport, at):
            e = c.payload()
            if isinstance(e, dict) and "id" in e:
                seen.setdefault(e["id"], e)
        return list(seen.values())


class ReplayProvider(BaseProvider):
    """Serves recorded responses on the capture clock (see module docstring).

    ``concurrent = False``: everything is in memory, so ingest's thread pool buys nothing.
    """

    name = "replay"
    concurrent = False

    def __init__(self, source: Path | str | Iterable[Path | str] | CaptureLog, *,
                 speed: float | None = 60.0, clock: Callable[[], float] = time.monotonic,
                 books: tuple[str, ...] = (), markets: tuple[str, ...] = ()):
        super().__init__(rate_per_second=1e6)
        self.log = source if isinstance(source, CaptureLog) else CaptureLog.load(source)
        self.speed = speed
        self.books = frozenset(books)
        self.markets = frozenset(markets)
        self._mono = clock
        self._anchor_capture = self.log.times[0]
        self._anchor_wall = clock()
        self._served_until: pd.Timestamp | None = None
        self._parsed: OrderedDict[int, pd.DataFrame] = OrderedDict()
        self._known: dict[str, Game] = {}

    @classmethod
    def from_settings(cls, settings) -> ReplayProvider:  # noqa: ANN001
        """Build from ``propsage.config.Settings`` (replay_source, replay_speed)."""
        return cls(settings.replay_source, speed=settings.replay_speed)

    # -- clock -------------------------------------------------------------------------------
    def now(self) -> pd.Timestamp:
        """The capture clock."""
        if not self.speed:
            return self._anchor_capture
        elapsed = (self._mono() - self._anchor_wall) * self.speed
        return self._anchor_capture + pd.Timedelta(seconds=elapsed)

    def step(self) -> bool:
        """Jump the clock to the next capture time; False when there is none."""
        i = bisect.bisect_right(self.log.times, self.now())
        if i >= len(self.log.times):
            return False
        self._anchor_capture = self.log.times[i]
        self._anchor_wall = self._mono()
        return True

    def finished(self) -> bool:
        """True once the last capture has been served."""
        return self._served_until is not None and self._served_until >= self.log.times[-1]

    def _served(self, at: pd.Timestamp) -> None:
        if self._served_until is None or at > self._served_until:
            self._served_until = at

    # -- data --------------------------------------------------------------------------------
    def get_games(self) -> list[Game]:
        """Games of the captures at the clock: live/scheduled by commence time, final once gone."""
        at = self.now()
        games: list[Game] = []
        current: set[str] = set()
        for sport in self.log.sports():
            listed = self.log.events_at(sport, at)
            found, _ = parse_games(listed, at, provider=self.name)
            scores = self.log.latest("scores", at, sport)
            if scores is not None:
                scored, _ = parse_games(scores.payload(), at, provider=self.name)
                by_id = {g.id: g for g in scored}
                found = [by_id.get(g.id, g) for g in found] + [
                    g for g in scored if g.id not in {f.id for f in found}]
            for g in found:
                current.add(g.id)
                self._known[g.id] = g
                games.append(g)
        for gid, g in self._known.items():
            if gid not in current and pd.Timestamp(g.start_time) <= at:
                g.status, g.clock = GameStatus.FINAL, "Final"
                games.append(g)
        self._served(at)
        return games

    def _offers_of(self, cap: Capture) -> pd.DataFrame:
        """The parsed offer frame of one capture (the last few are memoised)."""
        key = id(cap)
        hit = self._parsed.get(key)
        if hit is None:
            parsed = parse_odds(cap.payload(), cap.time, provider=self.name)
            self._count_rejects(parsed)
            hit = parsed.offers
            self._parsed[key] = hit
            while len(self._parsed) > 8:
                self._parsed.popitem(last=False)
        else:
            self._parsed.move_to_end(key)
        return hit

    def _count_rejects(self, parsed: Parsed) -> None:
        if len(parsed.rejects):
            self.record_rejects(parsed.rejects)
            log.warning("replay: %d malformed items skipped (%s)", len(parsed.rejects),
                        "; ".join(parsed.rejects["reason"].value_counts().head(3).index))

    def get_offers(self, game_id: str) -> pd.DataFrame:
        """The game's quotes in the latest captures at the clock (game lines and props)."""
        if game_id not in self._known:
            raise ProviderError(f"replay: unknown game {game_id}", retryable=False)
        return self.get_offers_many([game_id])

    def get_offers_many(self, game_ids: list[str]) -> pd.DataFrame:
        """One offer frame for several games (what ``replay_into`` stores per capture time)."""
        at = self.now()
        wanted = set(game_ids)
        frames = []
        for sport in {self._known[g].sport_key for g in game_ids if g in self._known}:
            cap = self.log.latest("odds", at, sport)
            if cap is not None:
                f = self._offers_of(cap)
                frames.append(f[f["game_id"].isin(wanted)])
            for gid in wanted:
                props = self.log.latest("event_odds", at, sport, gid)
                if props is not None:
                    f = self._offers_of(props)
                    frames.append(f[f["game_id"] == gid])
        self._served(at)
        frames = [f for f in frames if len(f)]
        if not frames:
            return empty_offers()
        out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        if self.books:
            out = out[out["book"].isin(self.books)]
        if self.markets:
            out = out[out["market"].isin(self.markets)]
        return out.reset_index(drop=True)


@dataclass(slots=True)
class ReplayStats:
    """What ``replay_into`` did."""

    captures: int = 0
    quotes: int = 0
    snapshots: int = 0
    movements: int = 0
    rejected: int = 0
    seconds: float = 0.0


def replay_into(store, provider: ReplayProvider, *, pricer=None,  # noqa: ANN001
                limit: int | None = None) -> ReplayStats:
    """Push every remaining capture time into ``store`` (all games, no polling window)."""
    stats = ReplayStats()
    t0 = time.perf_counter()
    if provider.speed:
        raise ValueError("replay_into needs a held clock: ReplayProvider(..., speed=None)")
    first = provider._served_until is None
    known: tuple = ()
    ids: list[str] = []
    now = provider.now()
    while first or provider.step():
        first = False
        now = provider.now()
        games = provider.get_games()
        state = tuple((g.id, str(g.status), g.home_score, g.away_score) for g in games)
        if state != known:          # games change rarely; upserting them every tick is slow
            store.upsert_games(games, now)
            known = state
            ids = [g.id for g in games if g.status != GameStatus.FINAL]
        batch = provider.get_offers_many(ids)
        if len(batch) and pricer is not None:
            batch = pricer(batch)
        changes = store.apply_offers(batch, now=now)
        stats.captures += 1
        stats.quotes += len(batch)
        stats.snapshots += changes.n_snapshots
        stats.movements += len(changes.movements)
        stats.rejected += len(changes.rejected)
        if limit is not None and stats.captures >= limit:
            break
    store.mark_games(ids, stale=False, now=now)
    stats.seconds = time.perf_counter() - t0
    return stats
