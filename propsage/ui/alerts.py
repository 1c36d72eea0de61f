"""Alert items (steam, line moves, arbitrage, middles) from bus events, for the feeds (pure).

The analytics stage publishes its findings as events whose ``data`` is a dict, a dataclass, a
list of them or a DataFrame of rows. Feeds show a short line per finding, built from whatever
of the usual fields a finding has (player, market, book(s), line, return, gap, ...).
"""

from __future__ import annotations

import dataclasses
import html
import math
from collections.abc import Iterable
from typing import Any

import pandas as pd

from propsage.domain import EventKind, LiveEvent
from propsage.ui.props import book_label, market_label

STEAM_KINDS = (EventKind.STEAM, EventKind.LINE_MOVEMENT)
OPPORTUNITY_KINDS = (EventKind.ARBITRAGE, EventKind.MIDDLE)
MAX_ROWS_PER_EVENT = 20


def _records(data: Any) -> list[dict[str, Any]]:
    if data is None:
        return []
    if isinstance(data, pd.DataFrame):
        return data.head(MAX_ROWS_PER_EVENT).to_dict("records")
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        return [dataclasses.asdict(data)]
    if isinstance(data, dict):
        return [data]
    if isinstance(data, Iterable) and not isinstance(data, str | bytes):
        return [r for d in list(data)[:MAX_ROWS_PER_EVENT] for r in _records(d)]
    return [{"detail": str(data)}]


def _get(r: dict[str, Any], *names: str) -> Any:
    for n in names:
        v = r.get(n)
        if v is None or (isinstance(v, float) and math.isnan(v)) or v == "":
            continue
        return v
    return None


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def describe(event: LiveEvent, names: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Feed items for one event: {'t', 'kind', 'key', 'html'} per finding."""
    names = names or {}
    out = []
    for r in _records(event.data):
        game = str(_get(r, "game_id") or event.game_id or "")
        player = _get(r, "player_name") or names.get(str(_get(r, "player_id") or ""), None) \
            or _get(r, "player_id") or ""
        market = str(_get(r, "market") or "")
        parts = []
        books = _get(r, "books", "book", "leader", "lead_book", "first_book")
        if isinstance(books, list | tuple):
            books = ", ".join(book_label(str(b)) for b in books)
        elif books is not None:
            books = book_label(str(books))
        if event.kind in STEAM_KINDS:
            direction = _get(r, "direction", "side")
            frm, to = _get(r, "from_line"), _get(r, "to_line", "line")
            if direction is not None:
                # engine directions are +1 (toward over / home) and -1 (toward under / away)
                arrow = {1: "▲ over", -1: "▼ under"}.get(_as_int(direction))
                parts.append(arrow or html.escape(str(direction)))
            if frm is not None and to is not None:
                parts.append(f"{_fmt(frm)} → {_fmt(to)}")
            elif to is not None:
                parts.append(f"line {_fmt(to)}")
            n = _get(r, "n_books", "books_moved")
            if n is not None:
                parts.append(f"{n} books")
            if books:
                parts.append(f"led by {html.escape(books)}")
            delay = _get(r, "detection_delay", "delay_seconds", "delay")
            if delay is not None:
                parts.append(f"delay {html.escape(_fmt(delay))}")
        else:
            ret = _get(r, "return_pct", "roi", "profit_pct", "arb_pct", "ev")
            gap = _get(r, "gap", "width")
            lo, hi = _get(r, "over_line", "low_line"), _get(r, "under_line", "high_line")
            if lo is not None and hi is not None:
                parts.append(f"o{_fmt(lo)} / u{_fmt(hi)}")
            elif _get(r, "line") is not None:
                parts.append(f"line {_fmt(_get(r, 'line'))}")
            if gap is not None:
                parts.append(f"gap {_fmt(gap)}")
            if ret is not None:
                val = float(ret)
                parts.append(f"<b>{val * 100 if abs(val) < 1 else val:+.2f}%</b>")
            if books:
                parts.append(html.escape(books))
        title = " · ".join(x for x in (html.escape(str(player)), html.escape(
            market_label(market) if market else "")) if x)
        t = pd.Timestamp(_get(r, "timestamp", "detected_at") or event.timestamp)
        t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
        out.append({
            "t": t, "kind": str(event.kind), "key": f"{game}|{_get(r, 'player_id') or ''}|{market}",
            "html": f"<b>{title or html.escape(game)}</b> " + " · ".join(parts),
        })
    return out


_KIND_STYLE = {
    "steam": ("#8250df", "STEAM"), "line_movement": ("#0969da", "MOVE"),
    "arbitrage": ("#1a7f37", "ARB"), "middle": ("#bf8700", "MIDDLE"),
}


def render_items(items: list[dict[str, Any]], empty: str) -> str:
    """HTML list of feed items, newest first, or the empty-state text."""
    if not items:
        return f'<div class="ps-empty" style="color:#777;padding:8px">{html.escape(empty)}</div>'
    rows = []
    for it in items:
        color, label = _KIND_STYLE.get(it["kind"], ("#555", it["kind"].upper()))
        rows.append(
            f'<div class="ps-alert" style="padding:3px 0;border-bottom:1px solid #eee;'
            f'font-size:12px"><span style="color:#888">{it["t"]:%H:%M:%S}</span> '
            f'<span style="background:{color};color:#fff;border-radius:3px;padding:0 4px;'
            f'font-size:10px">{label}</span> {it["html"]}</div>')
    return "".join(rows)
