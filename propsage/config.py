"""Settings: read once from the environment and an optional ``.env`` file, validated up front.

Each setting has a ``PROPSAGE_*`` variable; some also accept the seed app's names (see
``ENV_NAMES``). Lookup order: the real environment before the ``.env`` file, and within each
source the ``PROPSAGE_*`` name before its aliases. Empty values count as unset. A bad value
raises ``ConfigError`` naming the variable and what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from propsage.domain import (
    BOOK_KEYS,
    GAME_MARKETS,
    LEAGUE_SPORT_KEYS,
    MARKETS_BY_LEAGUE,
    PLAYER_MARKETS,
    SEED_MARKETS,
)
from propsage.paths import DATA_DIR, REPO

DEFAULT_ENV_FILE = REPO / ".env"
PROVIDERS: tuple[str, ...] = ("mock", "theoddsapi", "replay")
REGIONS: tuple[str, ...] = ("us", "us2", "uk", "eu", "au")
LOG_LEVELS: tuple[str, ...] = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")
# Odds API market keys we do not list in domain but accept (alternate lines, other props).
_MARKET_KEY = re.compile(r"^(player|batter|pitcher|alternate)_[a-z0-9_]+$")
_KNOWN_MARKETS = frozenset(GAME_MARKETS) | frozenset(PLAYER_MARKETS) | frozenset(
    m for ms in MARKETS_BY_LEAGUE.values() for m in ms
)


class ConfigError(ValueError):
    """A setting has a value PropSage cannot use."""


class Secret:
    """A string that never shows itself in repr/str/logs; read it with ``.get()``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        """The secret value."""
        return self._value

    def __repr__(self) -> str:
        return "Secret(***)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


# --- parsers: (raw value, name to blame) -> clean value --------------------------------------

def _items(value: str | Iterable[str]) -> list[str]:
    parts = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    return [p.strip().lower() for p in parts if p.strip()]


def _choice(allowed: Iterable[str]) -> Callable[[Any, str], str]:
    allowed = tuple(allowed)

    def parse(value: Any, name: str) -> str:
        v = str(value).strip().lower()
        if v not in allowed:
            raise ConfigError(f"{name}: unknown value {value!r}; allowed: {', '.join(allowed)}")
        return v

    return parse


def _flag(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    v = str(value).strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ConfigError(f"{name}: expected a boolean, got {value!r}; allowed: "
                      f"{'/'.join(_TRUE)} or {'/'.join(_FALSE)}")


def _int(minimum: int | None = None) -> Callable[[Any, str], int]:
    need = "an integer" + (f" >= {minimum}" if minimum is not None else "")

    def parse(value: Any, name: str) -> int:
        try:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            v = int(value) if not isinstance(value, str) else int(value.strip())
        except (TypeError, ValueError):
            raise ConfigError(f"{name}: expected {need}, got {value!r}") from None
        if minimum is not None and v < minimum:
            raise ConfigError(f"{name}: expected {need}, got {v}")
        return v

    return parse


def _positive(value: Any, name: str, unit: str = "", scale: float = 1.0) -> float:
    try:
        if isinstance(value, bool):
            raise ValueError
        v = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        v = math.nan
    if not (math.isfinite(v) and v > 0):
        raise ConfigError(f"{name}: expected a number{unit} > 0, got {value!r}")
    return v * scale


def _seconds(value: Any, name: str) -> float:
    return _positive(value, name, " of seconds")


def _milliseconds(value: Any, name: str) -> float:
    return _positive(value, name, " of milliseconds", 0.001)


def _number(value: Any, name: str) -> float:
    return _positive(value, name)


def _path(value: Any, name: str) -> Path:
    if not str(value).strip():
        raise ConfigError(f"{name}: expected a path, got an empty value")
    return Path(str(value).strip()).expanduser()


def _optional_path(value: Any, name: str) -> Path | None:
    return None if value is None or not str(value).strip() else _path(value, name)


def _secret(value: Any, name: str) -> Secret | None:
    if value is None or isinstance(value, Secret):
        return value or None
    v = str(value).strip()
    return Secret(v) if v else None


def _url(value: Any, name: str) -> str:
    v = str(value).strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", v):
        raise ConfigError(f"{name}: expected an http(s) URL, got {value!r}")
    return v


def _log_level(value: Any, name: str) -> str:
    v = str(value).strip().upper()
    if v not in LOG_LEVELS:
        raise ConfigError(f"{name}: unknown log level {value!r}; allowed: {', '.join(LOG_LEVELS)}")
    return v


def _list_of(kind: str, allowed: Iterable[str], empty_ok: bool = False):  # noqa: ANN202
    allowed = tuple(allowed)

    def parse(value: Any, name: str) -> tuple[str, ...]:
        items = _items(value)
        for item in items:
            if item not in allowed:
                raise ConfigError(f"{name}: unknown {kind} {item!r}; allowed: {', '.join(allowed)}")
        if not items and not empty_ok:
            raise ConfigError(f"{name}: needs at least one {kind}; allowed: {', '.join(allowed)}")
        return tuple(dict.fromkeys(items))

    return parse


def _markets(value: Any, name: str) -> tuple[str, ...]:
    out = []
    for item in _items(value):
        key = SEED_MARKETS.get(item, item)
        if key not in _KNOWN_MARKETS and not _MARKET_KEY.match(key):
            raise ConfigError(
                f"{name}: unknown market {item!r}; allowed: Odds API keys ({', '.join(GAME_MARKETS)},"
                f" player_*, batter_*, pitcher_*, alternate_*) or seed names "
                f"({', '.join(SEED_MARKETS)})"
            )
        out.append(key)
    return tuple(dict.fromkeys(out))


# field -> parser, and the variables it is read from (first found wins, per source).
_PARSERS: dict[str, Callable[[Any, str], Any]] = {
    "provider": _choice(PROVIDERS),
    "realtime": _flag,
    "live_odds": _flag,
    "websocket_push": _flag,
    "leagues": _list_of("league", LEAGUE_SPORT_KEYS),
    "books": _list_of("book", BOOK_KEYS),
    "markets": _markets,
    "max_games": _int(1),
    "live_interval": _seconds,
    "pregame_interval": _seconds,
    "db_path": _path,
    "odds_api_key": _secret,
    "odds_api_base_url": _url,
    "regions": _list_of("region", REGIONS),
    "replay_source": _optional_path,
    "replay_speed": _number,
    "mock_seed": _int(),
    "mock_games": _int(1),
    "quota_floor": _int(0),
    "stale_after": _seconds,
    "parquet_dir": _path,
    "log_level": _log_level,
    "metrics_port": _int(0),
}
ENV_NAMES: dict[str, tuple[str, ...]] = {
    "provider": ("PROPSAGE_PROVIDER",),
    "realtime": ("PROPSAGE_REALTIME", "NEXT_PUBLIC_RT_ENABLED"),
    "live_odds": ("PROPSAGE_LIVE_ODDS", "NEXT_PUBLIC_LIVE_ODDS"),
    "websocket_push": ("PROPSAGE_WS_PUSH", "NEXT_PUBLIC_WS_ENABLED"),
    "leagues": ("PROPSAGE_LEAGUES", "SUPPORTED_LEAGUES", "NEXT_PUBLIC_LEAGUES"),
    "books": ("PROPSAGE_BOOKS", "ODDS_PROVIDERS", "NEXT_PUBLIC_ODDS_PROVIDERS"),
    "markets": ("PROPSAGE_MARKETS",),
    "max_games": ("PROPSAGE_MAX_GAMES", "NEXT_PUBLIC_MAX_GAMES", "MAX_CONCURRENT_GAMES"),
    "live_interval": ("PROPSAGE_LIVE_INTERVAL", "NEXT_PUBLIC_UPDATE_INTERVAL"),
    "pregame_interval": ("PROPSAGE_PREGAME_INTERVAL",),
    "db_path": ("PROPSAGE_DB",),
    "odds_api_key": ("PROPSAGE_ODDS_API_KEY", "THE_ODDS_API_KEY"),
    "odds_api_base_url": ("PROPSAGE_ODDS_API_BASE_URL",),
    "regions": ("PROPSAGE_REGIONS",),
    "replay_source": ("PROPSAGE_REPLAY_SOURCE",),
    "replay_speed": ("PROPSAGE_REPLAY_SPEED",),
    "mock_seed": ("PROPSAGE_MOCK_SEED",),
    "mock_games": ("PROPSAGE_MOCK_GAMES",),
    "quota_floor": ("PROPSAGE_QUOTA_FLOOR",),
    "stale_after": ("PROPSAGE_STALE_AFTER",),
    "parquet_dir": ("PROPSAGE_PARQUET_DIR",),
    "log_level": ("PROPSAGE_LOG_LEVEL",),
    "metrics_port": ("PROPSAGE_METRICS_PORT",),
}
# Variables whose unit differs from the field's.
_UNIT_PARSERS: dict[str, Callable[[Any, str], Any]] = {
    "NEXT_PUBLIC_UPDATE_INTERVAL": _milliseconds,
}


@dataclass(frozen=True)
class Settings:
    """Everything configurable, validated; build with ``load_settings()``."""

    provider: str = "mock"
    realtime: bool = True
    live_odds: bool = True
    websocket_push: bool = True
    leagues: tuple[str, ...] = ("cfb", "nfl", "nba")
    books: tuple[str, ...] = ("draftkings", "fanduel")
    markets: tuple[str, ...] = ()  # Odds API keys; empty: each league's defaults
    max_games: int = 10
    live_interval: float = 5.0  # seconds between polls of live games
    pregame_interval: float = 60.0  # seconds between polls of games not started
    db_path: Path = DATA_DIR / "propsage.duckdb"
    odds_api_key: Secret | None = None
    odds_api_base_url: str = "https://api.the-odds-api.com/v4"
    regions: tuple[str, ...] = ("us",)
    replay_source: Path | None = None
    replay_speed: float = 60.0
    mock_seed: int = 7
    mock_games: int = 12
    quota_floor: int = 500  # stop spending Odds API credits below this many remaining
    stale_after: float = 120.0  # seconds without an update before a quote counts as stale
    parquet_dir: Path = DATA_DIR / "parquet"
    log_level: str = "INFO"
    metrics_port: int = 0  # serve Prometheus metrics on this port (0: off)
    _sources: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Normalise and validate every field, blaming the variable it came from when known.
        for name, parse in _PARSERS.items():
            blame = self._sources.get(name, name)
            object.__setattr__(self, name, parse(getattr(self, name), blame))
        key_name = self._sources.get("odds_api_key", "PROPSAGE_ODDS_API_KEY")
        if self.provider == "theoddsapi" and not self.odds_api_key:
            raise ConfigError(f"{key_name}: required when PROPSAGE_PROVIDER=theoddsapi "
                              "(also read from THE_ODDS_API_KEY)")
        if self.provider == "replay" and self.replay_source is None:
            raise ConfigError("PROPSAGE_REPLAY_SOURCE: required when PROPSAGE_PROVIDER=replay "
                              "(a capture file or folder to replay)")

    @property
    def sport_keys(self) -> tuple[str, ...]:
        """The Odds API sport keys of the configured leagues."""
        return tuple(LEAGUE_SPORT_KEYS[lg] for lg in self.leagues)

    @property
    def book_keys(self) -> tuple[str, ...]:
        """The Odds API bookmaker keys of the configured books (caesars -> williamhill_us)."""
        return tuple(dict.fromkeys(BOOK_KEYS[b] for b in self.books))

    def markets_for(self, league: str) -> tuple[str, ...]:
        """Odds API market keys to fetch for ``league``.

        Unset ``markets``: the league's player markets plus h2h, spreads, totals. Set: the
        configured game markets, the configured player markets the league lists in
        ``domain.MARKETS_BY_LEAGUE``, and any configured market no league lists.
        """
        if league not in MARKETS_BY_LEAGUE:
            raise ConfigError(f"unknown league {league!r}; allowed: {', '.join(LEAGUE_SPORT_KEYS)}")
        own = MARKETS_BY_LEAGUE[league]
        if not self.markets:
            return (*own, *GAME_MARKETS)
        return tuple(m for m in self.markets
                     if m in GAME_MARKETS or m in own or m not in _KNOWN_MARKETS)

    def with_overrides(self, **overrides: Any) -> Settings:
        """A validated copy with some fields replaced (None values are ignored)."""
        unknown = sorted(set(overrides) - set(_PARSERS))
        if unknown:
            raise ConfigError(f"unknown setting(s) {', '.join(unknown)}; "
                              f"allowed: {', '.join(_PARSERS)}")
        changes = {k: v for k, v in overrides.items() if v is not None}
        sources = {k: v for k, v in self._sources.items() if k not in changes}
        return dataclasses.replace(self, **changes, _sources=sources)


def load_settings(
    env: Mapping[str, str] | None = None, env_file: Path | None = DEFAULT_ENV_FILE
) -> Settings:
    """Settings from ``env`` (default ``os.environ``) over ``env_file`` (skipped if absent)."""
    sources: list[Mapping[str, str | None]] = [os.environ if env is None else env]
    if env_file is not None and Path(env_file).is_file():
        sources.append(dotenv_values(env_file))
    values: dict[str, Any] = {}
    blame: dict[str, str] = {}
    for name, variables in ENV_NAMES.items():
        found = _lookup(sources, variables)
        if found is None:
            continue
        var, raw = found
        parse = _UNIT_PARSERS.get(var, _PARSERS[name])
        values[name] = parse(raw, var)
        blame[name] = var
    return Settings(**values, _sources=blame)


def _lookup(
    sources: list[Mapping[str, str | None]], variables: tuple[str, ...]
) -> tuple[str, str] | None:
    """(variable, value) of the first non-empty variable, real environment first."""
    for source in sources:
        for var in variables:
            raw = source.get(var)
            if raw is not None and raw.strip():
                return var, raw
    return None
