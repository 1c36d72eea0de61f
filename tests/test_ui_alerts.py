"""Alert feed items: steam directions read as words, not engine codes."""

from __future__ import annotations

import pandas as pd

from propsage.domain import EventKind, LiveEvent
from propsage.ui.alerts import describe


def test_steam_direction_reads_as_over_or_under():
    data = pd.DataFrame({"game_id": ["g"], "player_id": ["a-b"], "market": ["player_points"],
                         "direction": [-1], "from_line": [24.5], "to_line": [23.5],
                         "n_books": [3], "first_book": ["fanduel"]})
    [item] = describe(LiveEvent(EventKind.STEAM, "g", "nba", data), {"a-b": "A B"})
    assert "▼ under" in item["html"] and "24.5 → 23.5" in item["html"]
