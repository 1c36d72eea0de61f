"""Grading bets against ``results`` (the actual stat per game, player and market).

The threshold a bet is graded at is its line, read the way the offer frame stores it:

- player props and ``totals``: Over wins when value > line, Under when value < line;
- ``spreads`` (over = HOME side, line = HOME point; results value = home margin, home minus
  away): home covers when margin + line > 0, i.e. margin > -line;
- ``h2h`` (line 0; value = home margin): home wins when margin > 0;
- no line (anytime TD "Yes"): Over wins when value > 0.5.

value equal to the threshold (an integer line, a tied h2h) is a push: stake returned. Bets whose
game, player and market have no result are 'ungraded' and stay out of P&L.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from propsage.domain import outcome_threshold

OUTCOMES = ("win", "loss", "push", "ungraded")


def thresholds(market: npt.ArrayLike, line: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """The value an Over (home) side must beat: line, -line for spreads, 0.5 without a line."""
    m = np.asarray(market, dtype=object)
    x = outcome_threshold(m, line)
    x = np.where(m == "h2h", 0.0, x)
    return np.where(np.isnan(x), 0.5, x)


def grade(market: npt.ArrayLike, line: npt.ArrayLike, side: npt.ArrayLike,
          value: npt.ArrayLike) -> npt.NDArray[np.object_]:
    """'win' | 'loss' | 'push' | 'ungraded' (value NaN) for each bet."""
    thr = thresholds(market, line)
    v = np.asarray(value, dtype=float)
    over = np.asarray(side, dtype=object) == "over"
    with np.errstate(invalid="ignore"):
        win = np.where(over, v > thr, v < thr)
        push = v == thr
    out = np.where(push, "push", np.where(win, "win", "loss")).astype(object)
    out[np.isnan(v)] = "ungraded"
    return out


def profit_per_unit(outcome: npt.ArrayLike, decimal_odds: npt.ArrayLike) -> npt.NDArray:
    """Profit of a 1-unit stake: decimal - 1 on a win, -1 on a loss, 0 on a push, NaN ungraded."""
    o = np.asarray(outcome, dtype=object)
    d = np.asarray(decimal_odds, dtype=float)
    return np.select([o == "win", o == "loss", o == "push"], [d - 1.0, -1.0, 0.0], np.nan)


def attach_outcomes(bets: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """Bets with the result ``value``, ``outcome``, ``won`` (1/0, NaN on push/ungraded)."""
    keys = ["game_id", "player_id", "market"]
    keyed = bets.drop(columns=[c for c in ("value", "outcome", "won") if c in bets])
    if "pmkey" in bets and "pmkey" in results:     # integer keys from the engine: fast join
        res = results[["pmkey", "value"]].drop_duplicates("pmkey", keep="last")
        out = keyed.merge(res, on="pmkey", how="left")
    else:
        res = results[[*keys, "value"]].drop_duplicates(keys, keep="last")
        out = keyed.merge(res, on=keys, how="left")
    out["outcome"] = grade(out["market"], out["line_numeric"], out["side"], out["value"])
    out["won"] = np.select([out["outcome"] == "win", out["outcome"] == "loss"], [1.0, 0.0],
                           np.nan)
    return out
