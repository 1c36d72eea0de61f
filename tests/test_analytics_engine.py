"""The incremental engine: poll by poll it finds what the batch functions find on the whole
history (the committed real excerpt, replayed as ingest would hand it over)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace

import pandas as pd

from propsage.analytics import (
    AnalyticsEngine,
    EngineParams,
    as_analyzer,
    detect_steam,
    line_movements,
    replay_polls,
    snapshots_from_line_changes,
)
from propsage.analytics.history import read_line_changes
from propsage.domain import EventKind, as_offer_frame

EXCERPT = Path(__file__).parent / "fixtures" / "nfl_line_changes_excerpt.csv"
NOW = pd.Timestamp("2025-11-01T18:00:00Z")


@lru_cache(maxsize=1)
def _snaps() -> pd.DataFrame:
    return snapshots_from_line_changes(read_line_changes(str(EXCERPT)))


@lru_cache(maxsize=1)
def _replay() -> tuple:
    engine = AnalyticsEngine(EngineParams(max_age_live=pd.Timedelta("2min")))
    results = [engine.update(board, changed, now) for now, board, changed in
               replay_polls(_snaps())]
    return engine, results


def q(book: str, line: float, over: float, under: float, player: str = "p",
      at: pd.Timestamp = NOW) -> dict:
    return {"game_id": "g", "player_id": player, "market": "player_receptions", "book": book,
            "line": line, "over_price": over, "under_price": under, "fetched_at": at,
            "book_last_update": at, "is_live": False}


def test_polls_find_the_same_moves_as_the_batch_history():
    cols = ["market", "book", "kind", "from_line", "to_line", "from_odds", "to_odds",
            "moved_at", "timestamp"]
    polled = pd.concat([r.movements for r in _replay()[1]], ignore_index=True)
    batch = line_movements(_snaps())
    a = polled[cols].astype(str).sort_values(cols).reset_index(drop=True)
    b = batch[cols].astype(str).sort_values(cols).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_polls_report_each_steam_when_its_kth_book_is_seen():
    cols = ["market", "direction", "first_book", "started_at", "detected_at"]
    polled = pd.concat([r.steam for r in _replay()[1]], ignore_index=True)
    batch = detect_steam(line_movements(_snaps()))
    a = polled[cols].astype(str).sort_values(cols).reset_index(drop=True)
    b = batch[cols].astype(str).sort_values(cols).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_poll_events_carry_the_live_event_kinds():
    kinds = {e.kind for r in _replay()[1] for e in r.events()}
    assert {EventKind.LINE_MOVEMENT, EventKind.STEAM, EventKind.ARBITRAGE} <= kinds


def test_update_looks_only_at_the_groups_that_changed():
    board = as_offer_frame([q(b, 6.5, -110, -110, player=p) for b in "abc" for p in "xyz"])
    changed = board[board["player_id"] == "y"]
    res = AnalyticsEngine().update(board, changed, NOW)
    assert res.consensus["player_id"].tolist() == ["y"]


def test_update_never_mutates_board_or_changes():
    board = as_offer_frame([q(b, 6.5, -110, -110) for b in "abc"])
    kept = board.copy()
    AnalyticsEngine().update(board, board, NOW)
    pd.testing.assert_frame_equal(board, kept)


def test_arbitrage_window_closes_with_its_duration():
    engine = AnalyticsEngine()
    first = as_offer_frame([q("a", 6.5, 110, -130), q("b", 6.5, -125, 105),
                            q("c", 6.5, -105, -115)])
    opened = engine.update(first, first, NOW).arbs_opened
    later = NOW + pd.Timedelta(minutes=3)
    second = as_offer_frame([q("a", 6.5, -110, -110, at=later), q("b", 6.5, -125, 105),
                             q("c", 6.5, -105, -115)])
    closed = engine.update(second, second[second["book"] == "a"], later).arbs_closed
    assert len(opened) == 1
    assert closed["duration_s"].tolist() == [180.0]


def test_analyzer_hook_turns_a_changeset_into_events():
    board = as_offer_frame([q("a", 6.5, 110, -130), q("b", 6.5, -125, 105),
                            q("c", 6.5, -105, -115)])
    withdrawn = pd.DataFrame(columns=["game_id", "player_id", "market", "book"],
                             index=pd.Index([], name="offer_id"))
    analyze = as_analyzer(AnalyticsEngine())
    events = analyze(board, SimpleNamespace(changed=board, withdrawn=withdrawn), NOW)
    assert [e.kind for e in events] == [EventKind.ARBITRAGE]


def test_book_that_withdrew_and_returns_on_another_line_moves_after_a_gap():
    engine = AnalyticsEngine()
    board = as_offer_frame([q(b, 6.5, -110, -110) for b in "abc"])
    engine.update(board, board, NOW)
    rest = board[board["book"] != "a"]
    withdrawn = board[board["book"] == "a"].set_index("offer_id")
    as_analyzer(engine)(rest, SimpleNamespace(changed=rest.iloc[:0], withdrawn=withdrawn),
                        NOW + pd.Timedelta(minutes=1))
    later = NOW + pd.Timedelta(minutes=2)
    back = as_offer_frame([q("a", 7.5, -110, -110, at=later)] + [
        q(b, 6.5, -110, -110) for b in "bc"])
    moves = engine.update(back, back[back["book"] == "a"], later).movements
    assert moves[["book", "from_line", "to_line", "after_gap"]].values.tolist() == [
        ["a", 6.5, 7.5, True]]
