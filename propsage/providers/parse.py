"""The Odds API v4 JSON -> offer frame and games (pure: no I/O, no clock unless none is given).

Reads what the API really returns: the featured ``/odds`` list, the per-event
``/events/{id}/odds`` object, the ``/events`` and ``/scores`` lists, and the historical
wrapper ``{"timestamp", "previous_timestamp", "next_timestamp", "data"}``.

Mapping (see ``propsage.domain``): one offer per (game, player, market, book, line).
- Props: outcomes ``{name: Over|Under|Yes|No, description: <player>, price, point}``; a book
  listing several points for one player gives one offer per point; one-sided quotes (Over only,
  anytime-TD ``Yes`` without a point -> line NaN) stay one-sided.
- h2h / spreads / totals: home side -> ``over_price``, away -> ``under_price``, home point ->
  ``line`` (0 for h2h); the away point of a spread is the negated home point.
- ``book_last_update``: the market's ``last_update``, else the bookmaker's (real prop responses
  often carry only the market-level one).
Malformed items become rejects with a reason; one bad item never sinks the batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import pandas as pd

from propsage.domain import (
    SPORT_KEY_LEAGUES,
    Game,
    GameStatus,
    as_offer_frame,
    empty_offers,
    normalize_player_id,
)

OVER_NAMES = frozenset({"Over", "Yes"})
UNDER_NAMES = frozenset({"Under", "No"})
REJECT_COLUMNS = ["game_id", "market", "book", "player_name", "reason"]


@dataclass(slots=True)
class Parsed:
    """What one response yields: an offer frame, the games it names, and rejected items."""

    offers: pd.DataFrame = field(default_factory=empty_offers)
    games: list[Game] = field(default_factory=list)
    rejects: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REJECT_COLUMNS))
    timestamp: pd.Timestamp | None = None   # the historical wrapper's snapshot time, if any


def unwrap(payload: Any) -> tuple[Any, pd.Timestamp | None]:
    """Strip the historical-endpoint wrapper; return (data, its timestamp or None)."""
    if isinstance(payload, dict) and "data" in payload and "timestamp" in payload:
        return payload["data"], _ts(payload.get("timestamp"))
    return payload, None


@lru_cache(maxsize=65536)
def player_id(name: str) -> str:
    """``domain.normalize_player_id`` memoised (the same few hundred names repeat every poll)."""
    return normalize_player_id(name)


def _ts(value: Any) -> pd.Timestamp | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        t = pd.Timestamp(value)
    except (ValueError, TypeError):
        return None
    if t is pd.NaT:
        return None
    return t.tz_convert("UTC") if t.tzinfo is not None else t.tz_localize("UTC")


def _number(value: Any) -> float | None:
    """A finite float from a JSON number; None for anything else (bools, strings, NaN)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    v = float(value)
    return v if math.isfinite(v) else None


def league_of(sport_key: str) -> str:
    """Our league code of an Odds API sport key (the key itself when unknown)."""
    return SPORT_KEY_LEAGUES.get(sport_key, sport_key)


def game_of(event: dict, now: pd.Timestamp, provider: str = "theoddsapi") -> Game | None:
    """The ``Game`` of one event object (odds, events or scores shape); None when malformed."""
    try:
        gid, home, away = event["id"], event["home_team"], event["away_team"]
    except (KeyError, TypeError):
        return None
    start = _ts(event.get("commence_time"))
    if not (isinstance(gid, str) and gid and isinstance(home, str) and isinstance(away, str)
            and start is not None):
        return None
    sport = str(event.get("sport_key") or "")
    status = GameStatus.LIVE if start <= now else GameStatus.SCHEDULED
    game = Game(id=gid, league=league_of(sport), start_time=start.to_pydatetime(),
                home_team=home, away_team=away, status=status, sport_key=sport,
                provider=provider)
    if "completed" in event:  # a /scores item
        scores = event.get("scores")
        if event.get("completed"):
            game.status = GameStatus.FINAL
            game.clock = "Final"
        elif scores:
            game.status = GameStatus.LIVE
        if isinstance(scores, list):
            by_team = {s.get("name"): s.get("score") for s in scores if isinstance(s, dict)}
            game.home_score = _int_or_none(by_team.get(home))
            game.away_score = _int_or_none(by_team.get(away))
    return game


def _int_or_none(v: Any) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def parse_games(payload: Any, now: pd.Timestamp | None = None,
                provider: str = "theoddsapi") -> tuple[list[Game], int]:
    """Games of an ``/events``, ``/scores`` or odds response; returns (games, malformed count)."""
    data, stamp = unwrap(payload)
    now = now if now is not None else (stamp or pd.Timestamp.now(tz="UTC"))
    items = data if isinstance(data, list) else [data]
    games, bad = [], 0
    for item in items:
        g = game_of(item, now, provider) if isinstance(item, dict) else None
        if g is None:
            bad += 1
        else:
            games.append(g)
    return games, bad


class _Rows:
    """Column lists of the offer frame being built (cheaper than a dict per row)."""

    __slots__ = ("cols", "rejects")

    def __init__(self) -> None:
        self.cols: dict[str, list] = {c: [] for c in (
            "game_id", "league", "player_id", "player_name", "market", "book", "line",
            "over_price", "under_price", "is_live", "book_last_update")}
        self.rejects: list[tuple[str, str, str, str, str]] = []

    def reject(self, game_id: str, market: str, book: str, player: str, reason: str) -> None:
        self.rejects.append((game_id, market, book, player, reason))


def parse_odds(payload: Any, fetched_at: pd.Timestamp | None = None, *,
               provider: str = "theoddsapi") -> Parsed:
    """Offers, games and rejects of any Odds API odds response (list, event object, wrapper)."""
    data, stamp = unwrap(payload)
    fetched = fetched_at if fetched_at is not None else (stamp or pd.Timestamp.now(tz="UTC"))
    fetched = pd.Timestamp(fetched)
    fetched = fetched.tz_localize("UTC") if fetched.tzinfo is None else fetched.tz_convert("UTC")
    rows = _Rows()
    games: list[Game] = []
    if isinstance(data, dict):
        events = [data]
    elif isinstance(data, list):
        events = data
    else:
        rows.reject("", "", "", "", f"response is {type(data).__name__}, not an event list")
        events = []
    for event in events:
        if not isinstance(event, dict):
            rows.reject("", "", "", "", f"event is {type(event).__name__}, not an object")
            continue
        game = game_of(event, fetched, provider)
        if game is None:
            rows.reject(str(event.get("id", "")), "", "", "",
                        "event without id, home_team, away_team or a valid commence_time")
            continue
        games.append(game)
        _parse_event(event, game, fetched, rows)
    return Parsed(offers=_frame(rows, fetched), games=games, rejects=_rejects(rows),
                  timestamp=stamp)


def _parse_event(event: dict, game: Game, fetched: pd.Timestamp, rows: _Rows) -> None:
    books = event.get("bookmakers", [])
    if not isinstance(books, list):
        rows.reject(game.id, "", "", "", "bookmakers is not a list")
        return
    live = pd.Timestamp(game.start_time) <= fetched
    for bm in books:
        if not isinstance(bm, dict) or not isinstance(bm.get("key"), str) or not bm["key"]:
            rows.reject(game.id, "", "", "", "bookmaker without a key")
            continue
        book = bm["key"]
        markets = bm.get("markets", [])
        if not isinstance(markets, list):
            rows.reject(game.id, "", book, "", "markets is not a list")
            continue
        for mk in markets:
            if not isinstance(mk, dict) or not isinstance(mk.get("key"), str) or not mk["key"]:
                rows.reject(game.id, "", book, "", "market without a key")
                continue
            outcomes = mk.get("outcomes")
            if not isinstance(outcomes, list):
                rows.reject(game.id, mk["key"], book, "", "outcomes is not a list")
                continue
            updated = mk.get("last_update") or bm.get("last_update")
            _parse_market(game, book, mk["key"], outcomes, updated, live, rows)


def _parse_market(game: Game, book: str, market: str, outcomes: list, updated: Any,
                  live: bool, rows: _Rows) -> None:
    # (player, line) -> [over, under]; dict keeps the book's order.
    quotes: dict[tuple[str, float | None], list[float | None]] = {}
    is_h2h = market.startswith("h2h")
    for o in outcomes:
        if not isinstance(o, dict):
            rows.reject(game.id, market, book, "", "outcome is not an object")
            continue
        name, player = o.get("name"), o.get("description") or ""
        if not isinstance(player, str):
            player = str(player)
        price = _number(o.get("price"))
        if price is None:
            rows.reject(game.id, market, book, player, f"outcome {name!r} has no numeric price")
            continue
        point = o.get("point")
        if point is not None:
            point = _number(point)
            if point is None:
                rows.reject(game.id, market, book, player, f"outcome {name!r} has a non-numeric point")
                continue
        if name in OVER_NAMES:
            side = 0
        elif name in UNDER_NAMES:
            side = 1
        elif name == game.home_team:
            side = 0
        elif name == game.away_team:
            side = 1
            if point is not None:
                point = -point          # the away spread is the negated home line
        else:
            why = "draw outcome (three-way market) is not stored" if name == "Draw" else \
                f"outcome {name!r} is neither Over/Under/Yes/No nor a team of the game"
            rows.reject(game.id, market, book, player, why)
            continue
        if is_h2h:
            point = 0.0
        if point is None and (name == game.home_team or name == game.away_team):
            rows.reject(game.id, market, book, player, f"{market} outcome {name!r} has no point")
            continue
        key = (player, point)
        pair = quotes.setdefault(key, [None, None])
        if pair[side] is not None:
            rows.reject(game.id, market, book, player,
                        f"duplicate {name!r} outcome at point {point}")
            continue
        pair[side] = price
    c = rows.cols
    for (player, point), (over, under) in quotes.items():
        c["game_id"].append(game.id)
        c["league"].append(game.league)
        c["player_id"].append(player_id(player) if player else "")
        c["player_name"].append(player)
        c["market"].append(market)
        c["book"].append(book)
        c["line"].append(math.nan if point is None else point)
        c["over_price"].append(math.nan if over is None else over)
        c["under_price"].append(math.nan if under is None else under)
        c["is_live"].append(live)
        c["book_last_update"].append(updated if isinstance(updated, str) else None)


def _frame(rows: _Rows, fetched: pd.Timestamp) -> pd.DataFrame:
    if not rows.cols["game_id"]:
        return empty_offers()
    df = pd.DataFrame(rows.cols)
    df["book_last_update"] = pd.to_datetime(df["book_last_update"], utc=True, errors="coerce",
                                            format="ISO8601")
    df["is_suspended"] = False
    df["fetched_at"] = fetched
    return as_offer_frame(df)


def _rejects(rows: _Rows) -> pd.DataFrame:
    return pd.DataFrame(rows.rejects, columns=REJECT_COLUMNS)


def snapshot_time(payload: Any) -> pd.Timestamp | None:
    """Best guess of when a bare response was captured: the latest ``last_update`` in it."""
    data, stamp = unwrap(payload)
    if stamp is not None:
        return stamp
    best: datetime | None = None
    for event in data if isinstance(data, list) else [data]:
        if not isinstance(event, dict):
            continue
        for bm in event.get("bookmakers") or []:
            for stamp_str in [bm.get("last_update")] + [
                    m.get("last_update") for m in bm.get("markets") or [] if isinstance(m, dict)]:
                t = _ts(stamp_str)
                if t is not None and (best is None or t > best):
                    best = t
    return pd.Timestamp(best) if best is not None else None
