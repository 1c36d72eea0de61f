"""Trends: consensus drift, books converging, quote rate (hand-made histories)."""

from __future__ import annotations

import pandas as pd
import pytest

from propsage.analytics import trends

T0 = pd.Timestamp("2025-11-01T12:00:00Z")


def snap(book: str, line: float, over: float, under: float, minute: int,
         active: bool = True) -> dict:
    t = T0 + pd.Timedelta(minutes=minute)
    return {"prop_offer_id": f"{book}{line}", "game_id": "g", "player_id": "p",
            "market": "player_receptions", "book": book, "line_numeric": line,
            "over_price": over, "under_price": under, "is_suspended": False,
            "is_active": active, "book_last_update": t, "fetched_at": t}


def test_consensus_line_drift_and_quote_rate_over_the_window():
    # All three books at 6.5 before the window; a, b, c move to 7.5 at +30, +60, +90 min.
    rows = [snap(b, 6.5, -110, -110, -60) for b in "abc"]
    for b, m in zip("abc", (30, 60, 90), strict=True):
        rows += [snap(b, 6.5, -110, -110, m, active=False), snap(b, 7.5, -110, -110, m)]
    t = trends(pd.DataFrame(rows), window="2h", freq="30min",
               now=T0 + pd.Timedelta("2h")).iloc[0]
    assert (t["line_start"], t["line_end"], t["line_drift"]) == (6.5, 7.5, 1.0)
    assert t["quotes_per_hour"] == pytest.approx(3 / 2)


def test_books_closing_their_differences_are_converging():
    # At the start the books' no-vig P(over 6.5) are 0.5, 0.6, 0.4; by the end all 0.5.
    rows = [snap("a", 6.5, -110, -110, -60), snap("b", 6.5, -160, 140, -60),
            snap("c", 6.5, 140, -160, -60), snap("b", 6.5, -110, -110, 60),
            snap("c", 6.5, -110, -110, 60)]
    t = trends(pd.DataFrame(rows), window="2h", freq="30min",
               now=T0 + pd.Timedelta("2h")).iloc[0]
    assert t["status"] == "converging"
    assert t["spread_end"] == pytest.approx(0.0)
