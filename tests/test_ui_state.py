"""The session data store: bus events in, small table/chart updates out (no browser)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from propsage.domain import EventKind, LiveEvent
from propsage.ingest import Ingestor
from propsage.ui.props import prop_keys
from propsage.ui.state import MOVE_SECONDS, DashboardState


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def runtime(store, bus, mock_provider):
    Ingestor(mock_provider, store, bus).poll("all")
    return SimpleNamespace(store=store, bus=bus, provider=mock_provider,
                           settings=SimpleNamespace(leagues=("nfl", "nba")))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def state(runtime, clock):
    s = DashboardState(runtime, schedule=False, clock=clock, page_size=20)
    yield s
    s.close()


def updates(state: DashboardState) -> list:
    seen: list = []
    state.param.watch(lambda e: seen.append(e.new), "table_update")
    return seen


def rows_of(runtime, key: str) -> pd.DataFrame:
    board = runtime.store.current_board()
    return board[prop_keys(board).to_numpy() == key].reset_index(drop=True)


def publish(runtime, rows: pd.DataFrame) -> None:
    gid = str(rows["game_id"].iloc[0])
    runtime.bus.publish(LiveEvent(EventKind.ODDS_UPDATE, gid, str(rows["league"].iloc[0]), rows))


def test_the_first_page_shows_the_top_rows_of_the_sorted_view(state):
    assert state.n_rows == state.n_total > 20
    assert state.table_update.kind == "reset"
    assert len(state.page_rows()) == 20 and state.n_pages == -(-state.n_rows // 20)
    assert not state.loading


def test_a_price_change_patches_only_that_rows_changed_cells(runtime, state):
    seen = updates(state)
    key = state.page_keys()[3]
    rows = rows_of(runtime, key)
    rows["over_price"] = 455.0

    publish(runtime, rows)
    state.feed.drain()

    (upd,) = seen
    assert upd.kind == "patch" and upd.stream is None
    assert set(upd.patch) == {"over"}
    assert [pos for pos, _ in upd.patch["over"]] == [3]
    assert "+455" in upd.patch["over"][0][1]


def test_a_moved_line_shows_an_arrow_for_three_seconds_then_clears(runtime, state, clock):
    key = state.page_keys()[0]
    rows = rows_of(runtime, key)
    rows["line_numeric"] = rows["line_numeric"] + 1.0
    publish(runtime, rows)
    state.feed.drain()
    assert "▲" in state.page_rows().at[0, "line"]

    seen = updates(state)
    clock.now += MOVE_SECONDS - 0.5
    state.feed.drain()
    assert seen == [] and "▲" in state.page_rows().at[0, "line"]
    clock.now += 1.0
    state.feed.drain()
    assert seen[-1].kind == "patch" and seen[-1].patch["line"][0][0] == 0
    assert "▲" not in state.page_rows().at[0, "line"]


def test_a_burst_of_events_gives_one_update_per_tick(runtime, state):
    seen = updates(state)
    for i, key in enumerate(state.page_keys()[:5]):
        rows = rows_of(runtime, key)
        rows["over_price"] = 400.0 + 5 * i
        publish(runtime, rows)
    assert state.feed.pending() == 5

    state.feed.drain()

    assert len(seen) == 1
    assert sorted(pos for pos, _ in seen[0].patch["over"]) == [0, 1, 2, 3, 4]


def test_a_filter_narrows_the_rows_and_goes_back_to_page_one(state):
    state.page = 2
    name = state.props().query("player_id != ''")["player_name"].iloc[0]
    state.player = name.lower()
    assert 0 < state.n_rows < state.n_total and state.page == 1
    shown = state.page_rows()["player"].tolist()
    assert shown and all(p == name for p in shown)
    assert state.table_update.kind == "reset"


def test_a_prop_withdrawn_from_the_page_resets_the_page(runtime, state):
    key = state.page_keys()[1]
    rows = rows_of(runtime, key).assign(is_active=False)
    n = state.n_rows
    publish(runtime, rows)
    state.feed.drain()
    assert state.table_update.kind == "reset"
    assert key not in state.page_keys() and state.n_rows == n - 1


def test_a_new_prop_streams_onto_a_page_that_has_room(runtime, state):
    state.page_size = 1000
    seen = updates(state)
    rows = rows_of(runtime, state.page_keys()[0]).assign(player_id="new-guy",
                                                         player_name="New Guy")
    publish(runtime, rows)
    state.feed.drain()
    (upd,) = seen
    assert upd.kind == "patch" and upd.stream["player"].tolist() == ["New Guy"]
    assert state.page_keys()[-1].endswith("|new-guy|" + rows["market"].iloc[0])


def test_closing_the_session_unsubscribes_from_the_bus(runtime, clock):
    baseline = runtime.bus.subscriber_count()
    s = DashboardState(runtime, schedule=False, clock=clock)
    assert runtime.bus.subscriber_count() == baseline + 1
    s.close()
    assert runtime.bus.subscriber_count() == baseline
    assert s.props().empty


def test_choosing_a_game_follows_only_that_games_topic(runtime, state):
    gid = state.props()["game_id"].iloc[0]
    count = runtime.bus.subscriber_count()
    state.game_id = gid
    assert state.feed.topics == [f"game:{gid}"]
    assert runtime.bus.subscriber_count() == count
    assert set(state.props()["game_id"]) == {gid}
    assert len(state.games) == 1


def test_selecting_a_prop_loads_its_history_and_then_streams_only_new_points(runtime, state):
    key = state.page_keys()[0]
    state.select(key)
    reset = state.chart_update
    assert reset.kind == "reset" and len(reset.points) == reset.points["book"].nunique()
    rows = rows_of(runtime, key)
    book = rows["book"].iloc[0]
    rows.loc[rows["book"] == book, "over_price"] = 455.0

    publish(runtime, rows)
    state.feed.drain()

    upd = state.chart_update
    assert upd.kind == "stream" and upd.points["book"].tolist() == [book]


def test_steam_and_arbitrage_events_fill_their_feeds(runtime, state):
    gid = state.props()["game_id"].iloc[0]
    runtime.bus.publish(LiveEvent(EventKind.STEAM, gid, "nfl", {"market": "totals",
                                                                "direction": "down"}))
    runtime.bus.publish(LiveEvent(EventKind.ARBITRAGE, gid, "nfl",
                                  [{"market": "totals", "return_pct": 0.01}]))
    state.feed.drain()
    assert [i["kind"] for i in state.steam_items] == ["steam"]
    assert [i["kind"] for i in state.opportunity_items] == ["arbitrage"]


def test_a_provider_outage_is_reported_and_the_stale_rows_stay(runtime, state):
    n = state.n_rows
    runtime.provider.health.up = False
    runtime.provider.health.last_error = "HTTP 503"
    runtime.store.mark_games(state.props()["game_id"].unique().tolist(), stale=True)
    runtime.bus.publish(LiveEvent(EventKind.PROVIDER_STATUS, "", "", {"up": False}))
    state.feed.drain()
    assert not state.provider_up and state.provider_error == "HTTP 503"
    assert state.n_rows == n and state.stale_games
    assert any("STALE" in b for b in state.page_rows()["badge"])


def test_min_edge_shows_only_props_priced_at_or_above_it(runtime, state):
    key = state.page_keys()[2]
    publish(runtime, rows_of(runtime, key).assign(edge=0.06, ev=0.1))
    state.feed.drain()
    state.min_edge = 5.0
    assert state.page_keys() == [key]
    assert np.isclose(state.props().at[key, "edge"], 0.06)
