"""Shared helpers over quote frames: keys, no-vig probabilities, decimal odds, quote times.

A quote frame is the offer frame (``propsage.domain.OFFER_COLUMNS``) or a snapshot frame
(``prop_offer_id``/``line_numeric`` spellings are accepted). Nothing here mutates its input.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from propsage.domain import HOME_POINT_MARKETS, outcome_threshold
from propsage.odds import american_or_nan, american_to_decimal, no_vig_two_way

GROUP: list[str] = ["game_id", "player_id", "market"]          # one betting question
BOOK_KEY: list[str] = [*GROUP, "book"]                          # one book's view of it
LINE_KEY: list[str] = [*GROUP, "line"]                          # one line of it, across books

# Markets whose "over" side (home) wins when the home margin beats minus the home point.
_NEGATED_MARKETS = HOME_POINT_MARKETS
_TS = "datetime64[us, UTC]"


def as_quotes(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with the offer-frame spellings (offer_id, line) and the optional columns filled."""
    # rename returns a new frame; with copy-on-write the caller's frame is never touched.
    df = frame.rename(columns={"prop_offer_id": "offer_id", "line_numeric": "line"})
    n = len(df)
    defaults = {
        "offer_id": "", "league": "", "player_id": "", "is_active": True, "is_live": False,
        "is_suspended": False,
    }
    for col, val in defaults.items():
        if col not in df:
            df[col] = np.full(n, val, dtype=object if isinstance(val, str) else bool)
    for col in ("book_last_update", "fetched_at"):
        if col not in df:
            df[col] = pd.Series(pd.NaT, index=df.index, dtype=_TS)
        elif not isinstance(df[col].dtype, pd.DatetimeTZDtype):
            df[col] = pd.to_datetime(df[col], utc=True)
    for col in ("line", "over_price", "under_price"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    for col in ("is_active", "is_live", "is_suspended"):
        df[col] = df[col].fillna(col == "is_active").astype(bool)
    df["player_id"] = df["player_id"].fillna("")
    return df


clean_american = american_or_nan  # invalid prices (|a| < 100, inf) read as not offered


def decimal_odds(price: np.ndarray) -> np.ndarray:
    """Decimal odds of American prices, NaN where missing or invalid."""
    return np.asarray(american_to_decimal(clean_american(price)), dtype=float)


def no_vig_over(over: np.ndarray, under: np.ndarray) -> np.ndarray:
    """Multiplicative no-vig P(over / home) of two-sided quotes, NaN where a side is missing."""
    o, u = clean_american(over), clean_american(under)
    if o.size == 0:
        return o
    p, _ = no_vig_two_way(o, u)
    return np.asarray(p, dtype=float)


def threshold(market: np.ndarray, line: np.ndarray) -> np.ndarray:
    """The value the over (home) side must beat: the line, or minus the home point for spreads."""
    return outcome_threshold(market, line)


def direction_sign(market: np.ndarray) -> np.ndarray:
    """+1 where a higher line favours the over side's backers, -1 for spreads (home point)."""
    return np.where(np.isin(np.asarray(market, dtype=object), list(_NEGATED_MARKETS)), -1, 1)


def quote_time(frame: pd.DataFrame) -> pd.Series:
    """The book's own time of each quote, falling back to when we fetched it."""
    return frame["book_last_update"].fillna(frame["fetched_at"])


def group_codes(frame: pd.DataFrame, cols: list[str]) -> np.ndarray:
    """Dense integer codes of the key columns (NaN keys get their own code)."""
    if len(frame) == 0:
        return np.zeros(0, dtype=np.int64)
    return frame.groupby(cols, sort=False, dropna=False).ngroup().to_numpy(dtype=np.int64)


def as_timedelta(value: str | pd.Timedelta | None) -> pd.Timedelta | None:
    """A Timedelta from '10min'-style strings (None stays None)."""
    return None if value is None else pd.Timedelta(value)


def as_utc(ts: object) -> pd.Timestamp:
    """A UTC Timestamp from anything pandas can parse."""
    t = pd.Timestamp(ts)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
