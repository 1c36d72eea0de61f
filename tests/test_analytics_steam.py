"""Steam moves and lead-lag, on the committed real excerpt (values read off the CSV by hand)
and on small hand-made move lists."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd
import pytest

from propsage.analytics import (
    detect_steam,
    lead_lag_table,
    line_movements,
    snapshots_from_line_changes,
    steam_members,
)
from propsage.analytics.history import read_line_changes

EXCERPT = Path(__file__).parent / "fixtures" / "nfl_line_changes_excerpt.csv"
T = pd.Timestamp


@lru_cache(maxsize=1)
def _moves() -> pd.DataFrame:
    return line_movements(snapshots_from_line_changes(read_line_changes(str(EXCERPT))))


def spread_steam(**kw: object) -> pd.DataFrame:
    s = detect_steam(_moves().copy(), **kw)
    return s[s["market"] == "spreads"].reset_index(drop=True)


def test_news_steam_is_found_with_the_books_that_moved_first():
    # 16:24 (book times): BetRivers and Fanatics 16:24:06, DraftKings 16:24:17, FanDuel
    # 16:24:34 all moved the Ravens spread down from -3.5 (toward the Bears).
    steam = spread_steam(k=3, window="15min")
    s = steam[steam["started_at"] == T("2025-10-25T16:24:06Z")].iloc[0]
    assert s["first_book"] == "betrivers,fanatics"
    assert s["n_books"] == 4
    assert s["direction"] == -1


def test_steam_carries_its_detection_delay():
    # The third book's move was first seen in the 16:24:38 fetch: 32 s after the first move.
    steam = spread_steam(k=3, window="15min")
    s = steam[steam["started_at"] == T("2025-10-25T16:24:06Z")].iloc[0]
    assert s["detected_at"] == T("2025-10-25T16:24:38Z")
    assert s["detection_delay_s"] == 32.0


def test_fewer_books_than_k_is_not_steam():
    steam = spread_steam(k=5, window="15min")
    assert T("2025-10-25T16:24:06Z") not in set(steam["started_at"])


def test_members_list_each_books_lag_behind_the_first():
    mem = steam_members(_moves().copy(), k=3, window="15min")
    mem = mem[(mem["market"] == "spreads") & (mem["moved_at"] >= T("2025-10-25T16:24:00Z"))
              & (mem["moved_at"] <= T("2025-10-25T16:25:00Z"))]
    assert dict(zip(mem["book"], mem["lag_s"], strict=True)) == {
        "betrivers": 0.0, "fanatics": 0.0, "draftkings": 11.0, "fanduel": 28.0}


def _move(book: str, minute: float, direction: int = 1) -> dict:
    t = T("2025-11-01T12:00:00Z") + pd.Timedelta(minutes=minute)
    return {"prop_offer_id": "x", "game_id": "g", "player_id": "p", "market": "player_pass_yds",
            "book": book, "league": "nfl", "kind": "line", "from_line": 240.5,
            "to_line": 240.5 + 5 * direction, "from_odds": -110.0, "to_odds": -110.0,
            "from_prob": 0.5, "to_prob": 0.5, "line_move": 5.0 * direction, "prob_move": 0.0,
            "movement_size": 5.0, "velocity": 1.0, "direction": direction, "significant": True,
            "after_gap": False, "is_live": False, "prev_moved_at": t, "moved_at": t,
            "timestamp": t + pd.Timedelta(seconds=30)}


def test_lead_lag_table_counts_leads_and_times_them():
    # Run 1 (12:00): A, then B 2 min later, C 5 min later. Run 2 (14:00, down): B, then A
    # 4 min later. A leads 1 of 2 runs, by 2 min; it follows B by 4 min.
    moves = pd.DataFrame([_move("A", 0), _move("B", 2), _move("C", 5),
                          _move("B", 120, -1), _move("A", 124, -1)])
    t = lead_lag_table(moves, k=2, window="15min").set_index("book")
    assert (t.loc["A", "n_runs"], t.loc["A", "n_led"]) == (2, 1)
    assert t.loc["A", "median_lead_min"] == pytest.approx(2.0)
    assert t.loc["A", "median_lag_min"] == pytest.approx(4.0)
    # Chance of leading: 1/3 in run 1, 1/2 in run 2.
    assert t.loc["A", "chance_rate"] == pytest.approx((1 / 3 + 1 / 2) / 2)


def test_moves_after_a_gap_do_not_make_steam():
    moves = pd.DataFrame([_move("A", 0), _move("B", 1), _move("C", 2)])
    moves.loc[2, "after_gap"] = True
    assert detect_steam(moves, k=3).empty
