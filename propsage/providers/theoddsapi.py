"""The Odds API v4 provider: real games, game lines and player props over one pooled httpx client.

Calls per poll (``get_games``), per sport: ``/events`` (free: the game list), ``/odds`` for the
featured markets h2h/spreads/totals of every game at once (cached ``lines_ttl`` seconds), and
``/scores?daysFrom=1`` (cached ``scores_ttl``, only once a game has started). ``get_offers(id)``
adds the player props of one game from ``/events/{id}/odds`` (props are only served there).

Concurrency: ``concurrent = True`` -- ingest's thread pool calls ``get_offers`` for several
games at once; they share one ``httpx.Client`` (thread-safe, pooled keep-alive connections)
and one token bucket, so concurrent prop calls never exceed ``rate_per_second``.

Faults raise ``ProviderError`` (ingest then marks the games stale and keeps their data):
401 -> "invalid or missing API key / out of credits", ``health.up = False``, no retry;
422 -> the unsupported market is named, dropped from further requests, and the call repeated
without it; 429, 5xx, timeouts, connection errors, malformed or truncated bodies -> up to
``max_retries`` retries with exponential backoff and jitter, then an error. An empty ``/odds``
list while ``/events`` lists games counts as a fault too (the last game lines are kept).
The API key is sent as the ``apiKey`` query parameter and never logged or recorded.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pandas as pd

from propsage.budget import FEATURED_MARKETS, Budget, region_units
from propsage.domain import (
    GAME_MARKETS,
    LEAGUE_SPORT_KEYS,
    MARKETS_BY_LEAGUE,
    Game,
    GameStatus,
    empty_offers,
)
from propsage.ingest import PREGAME_HORIZON
from propsage.providers.base import BaseProvider, ProviderError
from propsage.providers.parse import Parsed, parse_games, parse_odds

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.the-odds-api.com/v4"
_KEY_PARAM = re.compile(r"(apiKey=)[^&\s\"'>]+")


def redact(text: str, key: str | None = None) -> str:
    """``text`` with any ``apiKey=...`` value (and the key itself) replaced by ``***``."""
    text = _KEY_PARAM.sub(r"\1***", text)
    return text.replace(key, "***") if key else text


class _RedactApiKey(logging.Filter):
    """httpx logs every request URL at INFO; the Odds API key is in the query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(redact(str(a)) if "apiKey=" in str(a) else a for a in record.args)
        if isinstance(record.msg, str) and "apiKey=" in record.msg:
            record.msg = redact(record.msg)
        return True


_REDACTOR = _RedactApiKey()
for _name in ("httpx", "httpcore"):
    if _REDACTOR not in logging.getLogger(_name).filters:
        logging.getLogger(_name).addFilter(_REDACTOR)


class UnsupportedMarket(ProviderError):
    """422 from the API: a requested market is invalid or not served on this endpoint."""

    def __init__(self, message: str, markets: set[str]):
        super().__init__(message, retryable=False, status=422)
        self.markets = markets


def _error_body(resp: httpx.Response) -> tuple[str, str]:
    """(message, error_code) of an Odds API error response (raw text if it is not JSON)."""
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:200].strip(), ""
    if isinstance(body, dict):
        return str(body.get("message", "")), str(body.get("error_code", ""))
    return str(body)[:200], ""


def _named_markets(message: str, requested: str) -> set[str]:
    return {m for m in requested.split(",") if m and re.search(
        rf"(?<![A-Za-z0-9_]){re.escape(m)}(?![A-Za-z0-9_])", message)}


class TheOddsAPIProvider(BaseProvider):
    """Live odds from The Odds API v4 (see module docstring)."""

    name = "theoddsapi"
    concurrent = True

    def __init__(self, api_key: str, *, base_url: str = DEFAULT_BASE_URL,
                 leagues: tuple[str, ...] = ("nfl",),
                 markets: dict[str, tuple[str, ...]] | None = None,
                 regions: tuple[str, ...] = ("us",), bookmakers: tuple[str, ...] = (),
                 quota_floor: int = 0, timeout: float = 10.0, connect_timeout: float = 5.0,
                 max_retries: int = 3, backoff_base: float = 0.5, backoff_max: float = 16.0,
                 rate_per_second: float = 5.0, burst: float | None = None,
                 lines_ttl: float = 30.0, scores_ttl: float = 60.0,
                 live_interval: float = 5.0, pregame_interval: float = 60.0,
                 max_games: int = 10, pool_size: int = 8,
                 sleep: Callable[[float], None] = time.sleep, seed: int | None = None,
                 on_response: Callable[[dict], None] | None = None,
                 client: httpx.Client | None = None):
        super().__init__(rate_per_second=rate_per_second, burst=burst)
        if not api_key:
            raise ValueError("The Odds API needs an API key: set PROPSAGE_ODDS_API_KEY")
        unknown = [lg for lg in leagues if lg not in LEAGUE_SPORT_KEYS]
        if unknown:
            raise ValueError(f"unknown league(s) {unknown}; allowed: {list(LEAGUE_SPORT_KEYS)}")
        self._key = api_key
        self.base_url = base_url.rstrip("/")
        self.sports: dict[str, str] = {lg: LEAGUE_SPORT_KEYS[lg] for lg in leagues}
        markets = markets or {lg: (*MARKETS_BY_LEAGUE.get(lg, ()), *GAME_MARKETS)
                              for lg in leagues}
        self.line_markets: dict[str, list[str]] = {}
        self.prop_markets: dict[str, list[str]] = {}
        for lg, sport in self.sports.items():
            ms = list(dict.fromkeys(markets.get(lg, ())))
            self.line_markets[sport] = [m for m in ms if m in FEATURED_MARKETS]
            self.prop_markets[sport] = [m for m in ms if m not in FEATURED_MARKETS]
        self.dropped: dict[str, set[str]] = {s: set() for s in self.sports.values()}
        self.regions = tuple(regions)
        self.bookmakers = tuple(bookmakers)
        self.budget = Budget(quota_floor)
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.lines_ttl = lines_ttl
        self.scores_ttl = scores_ttl
        self.live_interval = live_interval
        self.pregame_interval = pregame_interval
        self.max_games = max_games
        self.on_response = on_response
        self._sleep = sleep
        self._rng = random.Random(seed)
        self._own_client = client is None
        self.client = client or httpx.Client(
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            limits=httpx.Limits(max_connections=pool_size, max_keepalive_connections=pool_size),
            headers={"Accept": "application/json", "User-Agent": "propsage"},
        )
        self._lock = threading.Lock()
        self._games: dict[str, Game] = {}
        self._sport_of: dict[str, str] = {}
        self._lines: dict[str, dict[str, pd.DataFrame]] = {}
        self._lines_games: dict[str, list[Game]] = {}
        self._lines_at: dict[str, float] = {}
        self._lines_error: dict[str, str] = {}
        self._scores: dict[str, dict[str, Game]] = {}
        self._scores_at: dict[str, float] = {}
        self._floor_warned = False

    @classmethod
    def from_settings(cls, settings) -> TheOddsAPIProvider:  # noqa: ANN001
        """Build from ``propsage.config.Settings``."""
        key = settings.odds_api_key.get() if settings.odds_api_key else ""
        return cls(key, base_url=settings.odds_api_base_url, leagues=tuple(settings.leagues),
                   markets={lg: settings.markets_for(lg) for lg in settings.leagues},
                   regions=tuple(settings.regions), bookmakers=tuple(settings.book_keys),
                   quota_floor=settings.quota_floor, live_interval=settings.live_interval,
                   pregame_interval=settings.pregame_interval, max_games=settings.max_games)

    def close(self) -> None:
        """Close the HTTP client (if this provider made it)."""
        if self._own_client:
            self.client.close()

    # -- HTTP --------------------------------------------------------------------------------
    def _base_params(self) -> dict[str, str]:
        params = {"oddsFormat": "american", "dateFormat": "iso"}
        if self.bookmakers:
            params["bookmakers"] = ",".join(self.bookmakers)   # wins over regions in the API
        else:
            params["regions"] = ",".join(self.regions)
        return params

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with jitter: uniform in [cap/2, cap], cap doubling per attempt."""
        cap = min(self.backoff_max, self.backoff_base * 2.0 ** attempt)
        delay = cap / 2 + self._rng.uniform(0, cap / 2)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.backoff_max))
        return delay

    def _quota(self, headers: httpx.Headers) -> None:
        if self.budget.update(headers):
            h = self.health
            h.requests_remaining = self.budget.remaining
            h.requests_used = self.budget.used
            h.requests_last = self.budget.last

    def _record(self, path: str, params: dict, status: int | None, data: Any = None,
                error: str = "") -> None:
        if self.on_response is None:
            return
        record = {"snapshot_time": pd.Timestamp.now(tz="UTC").isoformat(), "endpoint": path,
                  "params": dict(params), "status": status,
                  "quota": {"remaining": self.budget.remaining, "used": self.budget.used,
                            "last": self.budget.last}}
        if error:
            record["error"] = redact(error, self._key)
        record["data"] = data
        try:
            self.on_response(record)
        except Exception:  # a broken recorder must not stop ingest
            log.exception("theoddsapi: response recorder failed")

    def _fail(self, message: str, *, retryable: bool, status: int | None,
              level: int = logging.ERROR) -> ProviderError:
        message = redact(message, self._key)
        self.health.last_error = message
        log.log(level, message)
        return ProviderError(message, retryable=retryable, status=status)

    def _request(self, path: str, params: dict[str, str]) -> Any:
        """GET one endpoint with retries; the parsed JSON, or ``ProviderError``."""
        shown = f"GET {path}?" + "&".join(f"{k}={v}" for k, v in params.items())
        last_err, status, retry_after = "", None, None
        for attempt in range(self.max_retries + 1):
            if attempt:
                delay = self._backoff(attempt - 1, retry_after)
                log.warning("theoddsapi: %s: %s; retry %d/%d in %.2fs", shown, last_err,
                            attempt, self.max_retries, delay)
                self._sleep(delay)
            retry_after = None
            self.limiter.acquire()
            try:
                resp = self.client.get(self.base_url + path, params={**params, "apiKey": self._key})
            except httpx.TimeoutException as exc:
                last_err, status = f"timed out ({type(exc).__name__})", None
                self._record(path, params, None, error=last_err)
                continue
            except httpx.RequestError as exc:  # transport, decoding, redirects: all retryable
                why = redact(str(exc), self._key) or type(exc).__name__
                last_err, status = f"connection error ({type(exc).__name__}: {why})", None
                self._record(path, params, None, error=last_err)
                continue
            self._quota(resp.headers)
            status = resp.status_code
            if status == 200:
                try:
                    data = resp.json()
                except ValueError as exc:
                    last_err = f"malformed JSON ({len(resp.content)} bytes: {exc})"
                    self._record(path, params, status, error=last_err)
                    continue
                self._record(path, params, status, data)
                return data
            message, code = _error_body(resp)
            # An error body may echo the request URL, key included: never keep it as is.
            message, code = redact(message, self._key), redact(str(code or ""), self._key)
            self._record(path, params, status, error=f"{code}: {message}")
            if status == 401:
                self.health.up = False
                raise self._fail(
                    f"The Odds API refused {shown} (401 {code or 'UNAUTHORIZED'}): invalid or "
                    f"missing API key / out of credits. Check PROPSAGE_ODDS_API_KEY and the "
                    f"plan's remaining credits. API said: {message}",
                    retryable=False, status=401)
            if status == 422:
                names = _named_markets(message, params.get("markets", ""))
                raise UnsupportedMarket(redact(f"The Odds API rejected {shown} (422 {code}): "
                                               f"{message}", self._key), names)
            if status == 429:
                last_err = f"rate limited (429 {code or 'EXCEEDED_FREQ_LIMIT'})"
                ra = resp.headers.get("retry-after")
                retry_after = float(ra) if ra and ra.replace(".", "", 1).isdigit() else None
                if retry_after is not None and retry_after > self.backoff_max:
                    # Waiting that long would stall every other game's poll: give up now and
                    # let the next scheduled poll try again (the game is marked stale).
                    raise self._fail(f"The Odds API {shown}: {last_err}; the server asks to "
                                     f"wait {retry_after:.0f}s, so this poll gives up",
                                     retryable=True, status=429)
                continue
            if status >= 500:
                last_err = f"server error {status} {message[:80]}".rstrip()
                continue
            raise self._fail(f"The Odds API {shown}: {status} {code}: {message}",
                             retryable=False, status=status)
        raise self._fail(f"The Odds API {shown}: {last_err}; gave up after "
                         f"{self.max_retries + 1} attempts", retryable=True, status=status)

    def _with_markets(self, sport: str, path: str, markets: list[str]) -> Any:
        """Request ``path`` for the markets not dropped yet; on 422 drop the named ones, retry."""
        while True:
            with self._lock:
                wanted = [m for m in markets if m not in self.dropped[sport]]
            if not wanted:
                return None
            try:
                return self._request(path, {**self._base_params(), "markets": ",".join(wanted)})
            except UnsupportedMarket as exc:
                bad = exc.markets & set(wanted) or (set(wanted) if len(wanted) == 1 else set())
                if not bad:
                    raise self._fail(f"{exc} (could not tell which market; none dropped)",
                                     retryable=False, status=422) from None
                with self._lock:
                    self.dropped[sport] |= bad
                self._fail(f"The Odds API does not support market(s) {', '.join(sorted(bad))} "
                           f"for {sport} at {path} (422); dropped from further requests. "
                           f"API said: {exc}", retryable=False, status=422)

    # -- provider API ------------------------------------------------------------------------
    def get_games(self) -> list[Game]:
        """Games of every configured sport (events + game lines + scores); raises if none load."""
        now = self.now()
        if self.health.up:
            self.health.last_error = ""      # a new poll; errors of this poll are set below
        out: dict[str, Game] = {}
        sport_of: dict[str, str] = {}
        errors: list[str] = []
        for sport in self.sports.values():
            listed: list[Game] | None
            try:
                listed, _ = parse_games(self._request(f"/sports/{sport}/events",
                                                      {"dateFormat": "iso"}), now, self.name)
            except ProviderError as exc:
                if exc.status == 401:
                    raise
                errors.append(str(exc))
                listed = None
            lined = self._refresh_lines(sport, now, len(listed or []))
            if listed is None and lined is None:
                continue
            games = {g.id: g for g in (lined or [])}
            games.update({g.id: g for g in (listed or [])})
            self._refresh_scores(sport, list(games.values()), now)
            scored = self._scores.get(sport, {})
            for gid, g in games.items():
                s = scored.get(gid)
                if s is not None:
                    g.status, g.home_score, g.away_score, g.clock = (
                        s.status, s.home_score, s.away_score, s.clock)
                out[gid] = g
                sport_of[gid] = sport
        if errors and not out:
            raise ProviderError("; ".join(errors), retryable=True)
        with self._lock:
            self._games.update(out)
            self._sport_of.update(sport_of)
        self._plan(list(out.values()), now)
        return list(out.values())

    def _refresh_lines(self, sport: str, now: pd.Timestamp, listed: int) -> list[Game] | None:
        """Fetch the featured markets of every game of ``sport`` (unless cached); None on error."""
        if not self.line_markets[sport]:
            self._lines[sport] = {}
            return []
        at = self._lines_at.get(sport)
        if at is not None and time.monotonic() - at < self.lines_ttl and sport not in \
                self._lines_error:
            return self._lines_games.get(sport, [])
        try:
            data = self._with_markets(sport, f"/sports/{sport}/odds", self.line_markets[sport])
        except ProviderError as exc:
            if exc.status == 401:
                raise
            self._lines_error[sport] = str(exc)
            return None
        if data is None:
            data = []
        if not isinstance(data, list):
            self._lines_error[sport] = str(self._fail(
                f"The Odds API /sports/{sport}/odds returned a {type(data).__name__}, not a list; "
                "keeping the last game lines", retryable=True, status=200))
            return None
        if not data and listed:
            self._lines_error[sport] = str(self._fail(
                f"The Odds API returned an empty odds list for {sport} while /events lists "
                f"{listed} games; keeping the last game lines", retryable=True, status=200))
            return None
        parsed = parse_odds(data, pd.Timestamp.now(tz="UTC"), provider=self.name)
        self._count_rejects(parsed, f"/sports/{sport}/odds")
        by_game = {str(g): f.reset_index(drop=True)
                   for g, f in parsed.offers.groupby("game_id", sort=False)}
        with self._lock:
            self._lines[sport] = by_game
            self._lines_games[sport] = parsed.games
            self._lines_at[sport] = time.monotonic()
            self._lines_error.pop(sport, None)
        return parsed.games

    def _refresh_scores(self, sport: str, games: list[Game], now: pd.Timestamp) -> None:
        started = any(pd.Timestamp(g.start_time) <= now and g.status != GameStatus.FINAL
                      for g in games)
        at = self._scores_at.get(sport)
        if not started or (at is not None and time.monotonic() - at < self.scores_ttl):
            return
        try:
            data = self._request(f"/sports/{sport}/scores", {"daysFrom": "1", "dateFormat": "iso"})
        except ProviderError as exc:
            if exc.status == 401:
                raise
            log.warning("theoddsapi: scores for %s unavailable, status from start times: %s",
                        sport, exc)
            return
        scored, _ = parse_games(data, now, self.name)
        self._scores[sport] = {g.id: g for g in scored}
        self._scores_at[sport] = time.monotonic()

    def get_offers(self, game_id: str) -> pd.DataFrame:
        """Game lines (from the last ``/odds``) plus player props (``/events/{id}/odds``)."""
        with self._lock:
            game = self._games.get(game_id)
            sport = self._sport_of.get(game_id)
            lines_error = self._lines_error.get(sport or "")
            lines = self._lines.get(sport or "", {}).get(game_id)
        if game is None or sport is None:
            raise ProviderError(f"theoddsapi: unknown game {game_id} (call get_games first)",
                                retryable=False)
        if lines_error:
            raise ProviderError(f"game lines of {game_id} unavailable: {lines_error}")
        frames = [lines] if lines is not None and len(lines) else []
        if self.prop_markets[sport] and game.status != GameStatus.FINAL:
            if self.budget.props_allowed:
                self._floor_warned = False
                path = f"/sports/{sport}/events/{game_id}/odds"
                data = self._with_markets(sport, path, self.prop_markets[sport])
                if data is not None:
                    parsed = parse_odds(data, pd.Timestamp.now(tz="UTC"), provider=self.name)
                    self._count_rejects(parsed, path)
                    frames.append(parsed.offers)
            elif not self._floor_warned:
                self._floor_warned = True
                msg = (f"Odds API credits at {self.budget.remaining} (floor "
                       f"{self.budget.quota_floor}): prop polling paused; events, game lines "
                       "and scores continue")
                self.health.last_error = msg
                log.warning(msg)
        if not frames:
            return empty_offers()
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]

    def _count_rejects(self, parsed: Parsed, where: str) -> None:
        n = len(parsed.rejects)
        if n:
            self.record_rejects(parsed.rejects)
            log.warning("theoddsapi: %s: %d malformed items skipped (%s)", where, n,
                        "; ".join(parsed.rejects["reason"].value_counts().head(3).index))

    def _plan(self, games: list[Game], now: pd.Timestamp) -> None:
        live = sum(g.status == GameStatus.LIVE for g in games)
        soon = sum(g.status == GameStatus.SCHEDULED
                   and pd.Timestamp(g.start_time) - now <= PREGAME_HORIZON for g in games)
        live = min(live, self.max_games)
        soon = min(soon, self.max_games - live)
        polls = 1.0 / (1.0 / self.live_interval + 1.0 / self.pregame_interval)
        self.budget.check(
            now, live_games=live, pregame_games=soon,
            prop_markets=max((len(m) for m in self.prop_markets.values()), default=0),
            line_markets=max((len(m) for m in self.line_markets.values()), default=0),
            units=region_units(self.regions, self.bookmakers), live_interval=self.live_interval,
            pregame_interval=self.pregame_interval, lines_interval=max(self.lines_ttl, polls),
            sports=len(self.sports), scores_interval=self.scores_ttl)
