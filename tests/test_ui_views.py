"""The Viewer components apply the session store's updates (no browser, a bare document)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from bokeh.document import Document

from propsage.domain import EventKind, LiveEvent
from propsage.ingest import Ingestor
from propsage.ui.chart import LineChart
from propsage.ui.props import prop_keys
from propsage.ui.state import DashboardState
from propsage.ui.status import StatusBar
from propsage.ui.table import PropsTable


@pytest.fixture
def runtime(store, bus, mock_provider):
    Ingestor(mock_provider, store, bus).poll("all")
    return SimpleNamespace(store=store, bus=bus, provider=mock_provider, settings=None)


@pytest.fixture
def state(runtime):
    s = DashboardState(runtime, schedule=False, page_size=20)
    yield s
    s.close()


def rendered(view):  # noqa: ANN001, ANN201
    view.__panel__().get_root(Document())
    return view


def test_the_table_shows_the_page_and_applies_patches_to_its_cells(runtime, state):
    table = rendered(PropsTable(state=state)).table
    assert table.value["player"].tolist() == state.page_rows()["player"].tolist()
    board = runtime.store.current_board()
    key = state.page_keys()[2]
    rows = board[prop_keys(board).to_numpy() == key].assign(over_price=455.0)
    runtime.bus.publish(LiveEvent(EventKind.ODDS_UPDATE, rows["game_id"].iloc[0], "", rows))
    state.feed.drain()
    assert "+455" in table.value.at[2, "over"]


def test_no_matching_props_shows_an_empty_state_instead_of_a_blank_table(state):
    view = rendered(PropsTable(state=state))
    state.player = "nobody-is-called-this"
    assert view._empty.visible and "No props match" in view._empty.object


def test_a_provider_outage_raises_the_banner_and_recovery_lowers_it(state):
    bar = rendered(StatusBar(state=state))
    state.param.update(provider_up=False, provider_error="HTTP 503")
    assert bar._banner.visible and "HTTP 503" in bar._banner.object
    assert "STALE" in bar._banner.object
    state.provider_up = True
    assert not bar._banner.visible


def test_the_chart_loads_a_props_history_and_streams_new_points(runtime, state):
    chart = rendered(LineChart(state=state))
    key = state.page_keys()[0]
    state.select(key)
    books = sorted(chart.sources)
    assert books and all(len(chart.sources[b].data["t"]) == 1 for b in books)
    board = runtime.store.current_board()
    rows = board[prop_keys(board).to_numpy() == key].copy()
    rows.loc[rows["book"] == books[0], "over_price"] = 455.0
    runtime.bus.publish(LiveEvent(EventKind.ODDS_UPDATE, rows["game_id"].iloc[0], "", rows))
    state.feed.drain()
    assert len(chart.sources[books[0]].data["t"]) == 2
    assert all(len(chart.sources[b].data["t"]) == 1 for b in books[1:])
