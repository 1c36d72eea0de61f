"""The domain model: games, offers (one book's quote at one line), snapshots, movements, events.

Offers travel through the pipeline as a pandas DataFrame with the columns of ``OFFER_COLUMNS``
(the "offer frame"); single records use the dataclasses below. Prices are American odds;
times are timezone-aware UTC.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd


class GameStatus(StrEnum):
    SCHEDULED = "scheduled"
    LIVE = "live"
    FINAL = "final"


class EventKind(StrEnum):
    ODDS_UPDATE = "odds_update"
    GAME_STATE = "game_state"
    PROP_LINE_MOVE = "prop_line_move"
    MARKET_SUSPENSION = "market_suspension"
    LINE_MOVEMENT = "line_movement"
    STEAM = "steam"
    ARBITRAGE = "arbitrage"
    MIDDLE = "middle"
    PROVIDER_STATUS = "provider_status"


# Our league codes -> The Odds API sport keys.
LEAGUE_SPORT_KEYS: dict[str, str] = {
    "cfb": "americanfootball_ncaaf",
    "nfl": "americanfootball_nfl",
    "nba": "basketball_nba",
    "mlb": "baseball_mlb",
}
SPORT_KEY_LEAGUES: dict[str, str] = {v: k for k, v in LEAGUE_SPORT_KEYS.items()}

# Our book names -> The Odds API bookmaker keys (identity where not listed).
BOOK_KEYS: dict[str, str] = {
    "draftkings": "draftkings",
    "fanduel": "fanduel",
    "caesars": "williamhill_us",
    "williamhill_us": "williamhill_us",
    "betmgm": "betmgm",
    "espnbet": "espnbet",
    "pinnacle": "pinnacle",
    "betrivers": "betrivers",
    "fanatics": "fanatics",
    "bovada": "bovada",
    "betonlineag": "betonlineag",
    "lowvig": "lowvig",
    "mybookieag": "mybookieag",
    "betus": "betus",
    "unibet_us": "unibet_us",
    "pointsbetus": "pointsbetus",
    "superbook": "superbook",
    "wynnbet": "wynnbet",
    "barstool": "barstool",
    "twinspires": "twinspires",
    "betparx": "betparx",
    "hardrockbet": "hardrockbet",
    "ballybet": "ballybet",
}

# The seed's market names -> The Odds API market keys. We store the Odds API key.
SEED_MARKETS: dict[str, str] = {
    "passing_yards": "player_pass_yds",
    "rushing_yards": "player_rush_yds",
    "receiving_yards": "player_reception_yds",
    "passing_tds": "player_pass_tds",
    "rushing_tds": "player_rush_tds",
    "receptions": "player_receptions",
    "points": "player_points",
    "rebounds": "player_rebounds",
    "assists": "player_assists",
    "threes": "player_threes",
    "points_rebounds_assists": "player_points_rebounds_assists",
    "anytime_td": "player_anytime_td",
}
GAME_MARKETS: tuple[str, ...] = ("h2h", "spreads", "totals")
# Markets whose line is the HOME side's point: the over (home) side wins when the home margin
# beats minus the line.
HOME_POINT_MARKETS: frozenset[str] = frozenset({"spreads"})
PLAYER_MARKETS: tuple[str, ...] = tuple(SEED_MARKETS.values())
MARKETS_BY_LEAGUE: dict[str, tuple[str, ...]] = {
    "nfl": (
        "player_pass_yds", "player_pass_tds", "player_rush_yds", "player_rush_tds",
        "player_receptions", "player_reception_yds", "player_anytime_td",
    ),
    "cfb": (
        "player_pass_yds", "player_pass_tds", "player_rush_yds", "player_receptions",
        "player_reception_yds", "player_anytime_td",
    ),
    "nba": (
        "player_points", "player_rebounds", "player_assists", "player_threes",
        "player_points_rebounds_assists",
    ),
    "mlb": ("batter_hits", "batter_total_bases", "pitcher_strikeouts"),
}

# The offer frame: one row per (game, player, market, book, line) quote.
OFFER_COLUMNS: dict[str, str] = {
    "offer_id": "object",          # stable key (str), see offer_ids()
    "game_id": "object",           # str columns are object dtype: hashing and joins stay fast
    "league": "object",
    "player_id": "object",         # '' for game-level markets
    "player_name": "object",       # as the book wrote it ('' for game-level)
    "market": "object",            # The Odds API market key
    "book": "object",              # The Odds API bookmaker key
    "line": "float64",             # NaN where the market has no point (h2h -> 0, anytime TD)
    "over_price": "float64",       # American; Over / Yes / home side; NaN when not offered
    "under_price": "float64",      # American; Under / No / away side; NaN when not offered
    "is_live": "bool",
    "is_suspended": "bool",
    "book_last_update": "datetime64[us, UTC]",   # the book's own time (may be NaT)
    "fetched_at": "datetime64[us, UTC]",         # when we received it
}
# Columns that define "the quote changed" (a new snapshot row).
QUOTE_COLUMNS: tuple[str, ...] = ("line", "over_price", "under_price", "is_suspended")
# Columns that identify an offer.
KEY_COLUMNS: tuple[str, ...] = ("game_id", "player_id", "market", "book", "line")


_SUFFIX = re.compile(r"\b(jr|sr|ii|iii|iv|v)\b\.?", re.IGNORECASE)


def normalize_player_id(name: str) -> str:
    """Stable player id from a display name: accents, case, punctuation and Jr./III suffixes removed."""
    if not name:
        return ""
    s = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    s = s.lower().replace("'", "").replace("\u2019", "")
    s = re.sub(r"[.\-,]", " ", s)
    s = _SUFFIX.sub(" ", s)
    s = re.sub(r"[^a-z0-9 ]", "", s)
    # Runs of initials join up so "A.J. Brown", "A J Brown" and "AJ Brown" are one player.
    parts: list[str] = []
    prev_initial = False
    for tok in s.split():
        initial = len(tok) == 1
        if initial and prev_initial:
            parts[-1] += tok
        else:
            parts.append(tok)
        prev_initial = initial
    return "-".join(parts)


@lru_cache(maxsize=1 << 18)
def _offer_id(game_id: str, player_id: str, market: str, book: str, line: float) -> str:
    # NaN (no point) -> ''; + 0.0 folds -0.0 into 0.0 (a pick'em spread is one offer)
    point = "" if line != line else f"{float(line) + 0.0:g}"
    key = f"{game_id}|{player_id}|{market}|{book}|{point}"
    return hashlib.blake2b(key.encode(), digest_size=8).hexdigest()


def offer_ids(frame: pd.DataFrame) -> pd.Series:
    """Stable offer ids: a hash of (game, player, market, book, line); cached per key."""
    ids = [
        _offer_id(g, p, m, b, ln) for g, p, m, b, ln in zip(
            frame["game_id"].astype(str).to_numpy(object),
            frame["player_id"].astype(str).to_numpy(object),
            frame["market"].astype(str).to_numpy(object),
            frame["book"].astype(str).to_numpy(object),
            frame["line"].to_numpy(dtype=float, na_value=np.nan), strict=True)
    ]
    return pd.Series(ids, index=frame.index, dtype=object)


def outcome_threshold(market: np.ndarray | pd.Series, line: np.ndarray | pd.Series) -> np.ndarray:
    """The value of the outcome the over (home) side must beat: the line, or minus the home
    point for spreads (whose outcome is the home margin)."""
    line = np.asarray(line, dtype=float)
    home_point = np.isin(np.asarray(market, dtype=object), list(HOME_POINT_MARKETS))
    return np.where(home_point, -line, line)


def empty_offers() -> pd.DataFrame:
    """An empty offer frame with the canonical dtypes."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in OFFER_COLUMNS.items()})


def as_offer_frame(rows: list[dict[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    """Coerce records to the canonical offer frame, filling ids, defaults and dtypes."""
    df = pd.DataFrame(rows) if not isinstance(rows, pd.DataFrame) else rows.copy()
    if df.empty:
        return empty_offers()
    defaults: dict[str, Any] = {
        "league": "", "player_id": "", "player_name": "", "is_live": False,
        "is_suspended": False, "book_last_update": pd.NaT, "line": np.nan,
        "over_price": np.nan, "under_price": np.nan,
    }
    for col, val in defaults.items():
        if col not in df:
            df[col] = val
        elif isinstance(val, bool):  # a missing flag is False, not bool(NaN) == True
            df[col] = df[col].fillna(val)
    if "fetched_at" not in df:
        df["fetched_at"] = pd.Timestamp.now(tz="UTC")
    missing_pid = df["player_id"].isna() | (df["player_id"] == "")
    if missing_pid.any():
        df.loc[missing_pid, "player_id"] = df.loc[missing_pid, "player_name"].fillna("").map(
            normalize_player_id
        )
    for col in ("book_last_update", "fetched_at"):
        df[col] = pd.to_datetime(df[col], utc=True).astype("datetime64[us, UTC]")
    for col, dtype in OFFER_COLUMNS.items():
        if col in ("offer_id", "book_last_update", "fetched_at"):
            continue
        df[col] = df[col].astype(dtype)
    df["offer_id"] = offer_ids(df).astype(object)
    return df[list(OFFER_COLUMNS)].reset_index(drop=True)


@dataclass(slots=True)
class Game:
    """One game as the providers report it."""

    id: str
    league: str
    start_time: datetime
    home_team: str
    away_team: str
    status: GameStatus = GameStatus.SCHEDULED
    home_score: int | None = None
    away_score: int | None = None
    period: int | None = None
    clock: str | None = None
    sport_key: str = ""
    provider: str = ""

    def to_row(self) -> dict[str, Any]:
        """A flat dict for the store."""
        row = asdict(self)
        row["status"] = str(self.status)
        return row


@dataclass(slots=True, frozen=True)
class Offer:
    """One book's quote on one market at one line (a row of the offer frame)."""

    game_id: str
    market: str
    book: str
    line: float
    over_price: float
    under_price: float
    player_id: str = ""
    player_name: str = ""
    league: str = ""
    is_live: bool = False
    is_suspended: bool = False
    book_last_update: datetime | None = None
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(slots=True, frozen=True)
class Snapshot:
    """One stored observation of an offer (a row of ``odds_snapshots``)."""

    prop_offer_id: str
    line_numeric: float
    over_price: float
    under_price: float
    fetched_at: datetime
    book_last_update: datetime | None = None


@dataclass(slots=True, frozen=True)
class LineMovement:
    """A change of line (or of price at the same line) of one offer."""

    prop_offer_id: str
    from_line: float
    to_line: float
    from_odds: float
    to_odds: float
    movement_size: float
    velocity: float
    timestamp: datetime


@dataclass(slots=True, frozen=True)
class LiveEvent:
    """Something that happened, published on the event bus."""

    kind: EventKind
    game_id: str
    league: str
    data: Any
    timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))
