"""Quote validation: split an offer frame into storable rows and rejects with a reason."""

from __future__ import annotations

import numpy as np
import pandas as pd

from propsage.odds import invalid_american

# Markets quoted without a point (one-sided "Yes" or moneyline).
POINTLESS_MARKETS = frozenset({"h2h", "player_anytime_td", "player_first_td", "player_last_td"})


def split_valid(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (valid, rejected); rejected carries a ``reason`` column. Never mutates the input."""
    reason = pd.Series("", index=frame.index, dtype=object)
    line = frame["line"].to_numpy(dtype=float, na_value=np.nan)
    needs_point = ~frame["market"].isin(POINTLESS_MARKETS).to_numpy()
    bad_line = needs_point & ~np.isfinite(line)
    bad_line |= np.isinf(line)
    reason[bad_line] = "missing or non-finite line"
    bad_over = invalid_american(frame["over_price"].to_numpy(dtype=float, na_value=np.nan))
    bad_under = invalid_american(frame["under_price"].to_numpy(dtype=float, na_value=np.nan))
    reason[bad_over] = "over price not a valid American price (must be <= -100 or >= +100)"
    reason[bad_under] = "under price not a valid American price (must be <= -100 or >= +100)"
    no_price = (
        frame["over_price"].isna().to_numpy() & frame["under_price"].isna().to_numpy()
        & ~frame["is_suspended"].to_numpy(dtype=bool)
    )
    reason[no_price] = "no price on either side"
    for col in ("game_id", "market", "book"):
        values = frame[col].to_numpy(dtype=object)
        empty = pd.isna(values) | (values == "")
        reason[empty] = f"missing {col}"
    bad = (reason != "").to_numpy()
    rejected = frame.loc[bad].assign(reason=reason[bad].astype(str))
    return frame.loc[~bad], rejected
