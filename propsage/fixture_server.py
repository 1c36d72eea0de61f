"""A local Odds-API-compatible HTTP server that serves captures, with fault injection.

``FixtureServer(captures)`` (usable from pytest) or ``propsage serve-fixture --captures FILE``
listens on 127.0.0.1 and answers ``/v4/sports``, ``/v4/sports/{sport}/events``,
``/v4/sports/{sport}/odds``, ``/v4/sports/{sport}/events/{id}/odds`` and
``/v4/sports/{sport}/scores`` from the captures at its current time (``advance()`` moves to the
next capture time), filtered by the ``markets`` and ``bookmakers`` parameters like the real API.
It checks ``apiKey``, bills credits like the API (``/odds``: markets x regions; event odds:
markets returned x regions; ``/scores`` with daysFrom: 2; ``/events``, ``/sports``: free) and
sends ``x-requests-remaining/used/last`` on every response; a call costing more than the
remaining credits gets 401 ``OUT_OF_USAGE_CREDITS``.

Faults (``inject(kind, path=regex, times=n)``; ``times=None`` until ``clear_faults()``):
``401``, ``422`` (names ``market``; fires only when the request asks for it), ``429``, ``500``,
``timeout`` (answers after ``delay`` seconds), ``malformed`` (200 with broken JSON),
``truncated`` (Content-Length promises more than is sent), ``empty`` (200 with ``[]``, or the
event without bookmakers), ``disconnect`` (closes the connection without a response).
Error bodies follow the API's ``{"message", "error_code", "details_url"}`` shape; their wording
is ours, not captured from the API.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import signal
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd

from propsage.budget import FEATURED_MARKETS
from propsage.paths import REPO
from propsage.providers.replay import CaptureLog

log = logging.getLogger(__name__)

FAULTS = ("401", "422", "429", "500", "timeout", "malformed", "truncated", "empty", "disconnect")
# Path patterns for inject(): the featured list, per-event odds, the event list, scores.
LINES = r"^/v4/sports/[^/]+/odds$"
PROPS = r"^/v4/sports/[^/]+/events/[^/]+/odds$"
EVENTS = r"^/v4/sports/[^/]+/events$"
SCORES = r"^/v4/sports/[^/]+/scores$"
_DOCS = "https://the-odds-api.com/liveapi/guides/v4/api-error-codes.html"
DEFAULT_CAPTURES = REPO / "tests" / "fixtures"


@dataclass(slots=True)
class Fault:
    """One injected fault: what, on which paths (regex), how many more times (None: always)."""

    kind: str
    path: str = ""
    times: int | None = 1
    market: str = ""


class FixtureServer:
    """Serves captures like The Odds API on 127.0.0.1 (see module docstring)."""

    def __init__(self, captures: Path | str | list | CaptureLog, *, api_key: str = "test-key",
                 quota: int = 20_000, host: str = "127.0.0.1", port: int = 0,
                 delay: float = 2.0, latency: float = 0.0):
        self.log = captures if isinstance(captures, CaptureLog) else CaptureLog.load(captures)
        self.api_key = api_key
        self.remaining = quota
        self.used = 0
        self.delay = delay
        self.latency = latency
        self.connections = 0          # TCP connections accepted (keep-alive reuse shows here)
        self.in_flight = 0
        self.max_in_flight = 0        # most requests answered at once
        self.index = 0
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, dict[str, str], int]] = []   # (path, params, status)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        server = _QuietServer((host, port), _handler(self))
        self._httpd = server
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """Base URL to use as ``PROPSAGE_ODDS_API_BASE_URL``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v4"

    def start(self) -> FixtureServer:
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,),
                                        name="odds-fixture",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FixtureServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- control -----------------------------------------------------------------------------
    @property
    def time(self) -> pd.Timestamp:
        """The capture time being served."""
        return self.log.times[self.index]

    def advance(self, n: int = 1) -> bool:
        """Serve the next capture time (False, and no move, at the end)."""
        with self._lock:
            if self.index + n >= len(self.log.times):
                return False
            self.index += n
            return True

    def inject(self, kind: str, path: str = "", times: int | None = 1, market: str = "") -> None:
        """Make matching requests fail (``kind`` in ``FAULTS``)."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; allowed: {', '.join(FAULTS)}")
        with self._lock:
            self.faults.append(Fault(kind, path, times, market))

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        with self._lock:
            self.faults.clear()

    def _take_fault(self, path: str, params: dict[str, str]) -> Fault | None:
        wanted = set(params.get("markets", "").split(","))
        with self._lock:
            for f in self.faults:
                if f.path and not re.search(f.path, path):
                    continue
                if f.kind == "422" and f.market and f.market not in wanted:
                    continue
                if f.times is not None:
                    if f.times <= 0:
                        continue
                    f.times -= 1
                return f
        return None

    def _bill(self, cost: int) -> tuple[bool, dict[str, str]]:
        with self._lock:
            if cost > self.remaining:
                ok = False
                cost = 0
            else:
                ok = True
                self.remaining -= cost
                self.used += cost
            return ok, {"x-requests-remaining": str(self.remaining),
                        "x-requests-used": str(self.used), "x-requests-last": str(cost)}

    # -- responses ---------------------------------------------------------------------------
    def respond(self, path: str, params: dict[str, str]) -> tuple[int, Any, int]:
        """(status, body, cost) of a request, faults aside."""
        at = self.time
        m = re.match(r"^/v4/sports(?:/([^/]+)(?:/(events|odds|scores)(?:/([^/]+)/odds)?)?)?/?$",
                     path)
        if not m:
            return 404, _error("Unknown path", "NOT_FOUND"), 0
        sport, what, event_id = m.groups()
        units = _units(params)
        markets = [x for x in params.get("markets", "").split(",") if x]
        books = {x for x in params.get("bookmakers", "").split(",") if x}
        if sport is None:
            return 200, [{"key": s, "group": s.split("_")[0].title(), "title": s,
                          "description": s, "active": True, "has_outrights": False}
                         for s in self.log.sports()], 0
        if what == "events" and event_id is None:
            return 200, [_shell(e) for e in self.log.events_at(sport, at)], 0
        if what == "scores":
            cost = 2 if "daysFrom" in params else 1
            cap = self.log.latest("scores", at, sport)
            if cap is not None:
                return 200, cap.payload(), cost
            return 200, [{**_shell(e), "completed": False, "scores": None, "last_update": None}
                         for e in self.log.events_at(sport, at)], cost
        if what == "odds":
            markets = markets or ["h2h"]
            odd = [x for x in markets if x not in FEATURED_MARKETS]
            if odd:
                return 422, _error(f"Markets not supported by this endpoint: {','.join(odd)}",
                                   "INVALID_MARKET"), 0
            cap = self.log.latest("odds", at, sport)
            data = [_filter(e, markets, books) for e in (cap.payload() if cap else [])]
            return 200, data, len(markets) * units
        # per-event odds
        cap = self.log.latest("event_odds", at, sport, event_id)
        if cap is None:
            known = {e["id"]: e for e in self.log.events_at(sport, at)}
            if event_id not in known:
                return 404, _error("Event not found. The event may have expired or the event "
                                   "id is invalid.", "EVENT_NOT_FOUND"), 0
            return 200, {**_shell(known[event_id]), "bookmakers": []}, 0
        event = _filter(cap.payload(), markets, books)
        returned = {mk["key"] for b in event["bookmakers"] for mk in b["markets"]}
        return 200, event, len(returned) * units


def _units(params: dict[str, str]) -> int:
    books = [x for x in params.get("bookmakers", "").split(",") if x]
    if books:
        return -(-len(books) // 10)
    return max(1, len([x for x in params.get("regions", "").split(",") if x]))


def _shell(event: dict) -> dict:
    return {k: event[k] for k in ("id", "sport_key", "sport_title", "commence_time",
                                  "home_team", "away_team") if k in event}


def _filter(event: dict, markets: list[str], books: set[str]) -> dict:
    out = {k: v for k, v in event.items() if k != "bookmakers"}
    keep = []
    for b in event.get("bookmakers", []):
        if books and b.get("key") not in books:
            continue
        ms = [mk for mk in b.get("markets", []) if not markets or mk.get("key") in markets]
        if ms:
            keep.append({**b, "markets": ms})
    out["bookmakers"] = keep
    return out


def _error(message: str, code: str) -> dict:
    return {"message": message, "error_code": code, "details_url": f"{_DOCS}#{code.lower()}"}


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out or drop the connection are part of the fault tests.
        log.debug("fixture server: connection from %s ended with an error", client_address)


def _handler(server: FixtureServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes; without this, Nagle + delayed ACK add
            # ~40 ms to every keep-alive response.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with server._lock:
                server.connections += 1

        def log_message(self, fmt: str, *args: Any) -> None:  # quiet; keys stay out of logs
            return

        def _send(self, status: int, body: bytes, headers: dict[str, str],
                  length: int | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body) if length is None else length))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            parts = urlsplit(self.path)
            path = parts.path.rstrip("/") or "/"
            params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            key = params.pop("apiKey", "")
            if path.startswith("/_fixture/"):
                return self._control(path, params)
            with server._lock:
                server.in_flight += 1
                server.max_in_flight = max(server.max_in_flight, server.in_flight)
            try:
                if server.latency:
                    server._stop.wait(server.latency)
                status, body, headers = self._answer(path, params, key)
            finally:
                with server._lock:
                    server.in_flight -= 1
            with server._lock:
                server.requests.append((path, params, status))
            if body is None:
                return
            self._send(status, body, headers)

        def _answer(self, path: str, params: dict[str, str], key: str
                    ) -> tuple[int, bytes | None, dict[str, str]]:
            fault = server._take_fault(path, params)
            quota = {"x-requests-remaining": str(server.remaining),
                     "x-requests-used": str(server.used), "x-requests-last": "0"}
            if not key:
                return 401, _json(_error("API key is missing.", "MISSING_KEY")), quota
            if key != server.api_key or (fault and fault.kind == "401"):
                return 401, _json(_error("API key is not valid.", "INVALID_KEY")), quota
            if fault is not None:
                kind = fault.kind
                if kind == "422":
                    return 422, _json(_error(f"Invalid markets: {fault.market or 'unknown'}. "
                                             "Markets not supported by this endpoint.",
                                             "INVALID_MARKET")), quota
                if kind == "429":
                    return 429, _json(_error("Too many requests. Space out requests over "
                                             "several seconds.", "EXCEEDED_FREQ_LIMIT")), quota
                if kind == "500":
                    return 500, _json(_error("Internal server error", "INTERNAL_ERROR")), quota
                if kind == "timeout":
                    server._stop.wait(server.delay)
                if kind == "disconnect":
                    self.close_connection = True
                    return 0, None, quota
            status, body, cost = server.respond(path, params)
            if status == 200:
                ok, quota = server._bill(cost)
                if not ok:
                    return 401, _json(_error("Usage quota has been reached.",
                                             "OUT_OF_USAGE_CREDITS")), quota
            raw = _json(body)
            if fault is not None and fault.kind == "malformed" and status == 200:
                raw = raw[: max(1, len(raw) // 2)]
            elif fault is not None and fault.kind == "empty" and status == 200:
                raw = _json([] if isinstance(body, list) else {**body, "bookmakers": []})
            elif fault is not None and fault.kind == "truncated" and status == 200:
                self.close_connection = True
                self._send(status, raw[: len(raw) // 2], quota, length=len(raw))
                return status, None, quota
            return status, raw, quota

        def _control(self, path: str, params: dict[str, str]) -> None:
            if path == "/_fixture/advance":
                ok = server.advance(int(params.get("n", "1")))
            elif path == "/_fixture/fault":
                server.inject(params.get("kind", ""), params.get("path", ""),
                              None if params.get("times") == "always" else
                              int(params.get("times", "1")), params.get("market", ""))
                ok = True
            elif path == "/_fixture/clear":
                server.clear_faults()
                ok = True
            else:
                ok = False
            self._send(200 if ok else 404, _json({"ok": ok, "time": server.time.isoformat(),
                                                  "index": server.index}), {})

    return Handler


def _json(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


# -- CLI -------------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``propsage serve-fixture``."""
    parser.add_argument("--captures", action="append", type=Path,
                        help=f"capture file or folder (repeatable; default {DEFAULT_CAPTURES})")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--api-key", default="test-key", help="the key clients must send")
    parser.add_argument("--quota", type=int, default=20_000, help="credits before 401")
    parser.add_argument("--advance-every", type=float, default=0.0,
                        help="move to the next capture every N seconds (0: only on request)")
    parser.add_argument("--fault", action="append", default=[],
                        help="KIND[:PATH_REGEX[:TIMES|always]], e.g. 429:/odds$:2")


def main(args: argparse.Namespace) -> int:
    """Run the fixture server until interrupted."""
    server = FixtureServer(CaptureLog.load(args.captures or [DEFAULT_CAPTURES]),
                           api_key=args.api_key, quota=args.quota, host=args.host,
                           port=args.port)
    for spec in args.fault:
        kind, _, rest = spec.partition(":")
        path, _, times = rest.rpartition(":") if rest.count(":") else (rest, "", "")
        server.inject(kind, path, None if times == "always" else int(times or 1))
    server.start()
    print(f"Odds API fixture at {server.url} ({len(server.log.times)} capture times, "
          f"from {server.time}); PROPSAGE_ODDS_API_BASE_URL={server.url}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        while not stop.wait(args.advance_every or 3600):
            if args.advance_every and not server.advance():
                print("last capture reached; still serving it", flush=True)
    finally:
        server.stop()
    return 0
