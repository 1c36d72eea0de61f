"""A closed browser session unsubscribes from the bus and is freed (in-process server)."""

from __future__ import annotations

import gc
import time

import panel as pn
import pytest

from propsage.bus import EventBus
from propsage.config import load_settings
from propsage.ingest import Ingestor
from propsage.providers.mock import MockDataProvider
from propsage.runtime import Runtime
from propsage.store import Store
from propsage.ui.dashboard import build_dashboard
from propsage.ui.state import DashboardState

pytestmark = pytest.mark.browser


@pytest.fixture
def runtime(tmp_path):
    settings = load_settings(env={"PROPSAGE_DB": str(tmp_path / "db.duckdb")}, env_file=None)
    store = Store(settings.db_path)
    bus = EventBus()
    provider = MockDataProvider(("nfl", "nba"), n_games=4, seed=3)
    ingestor = Ingestor(provider, store, bus, live_interval=1, pregame_interval=5)
    ingestor.poll("all")
    ingestor.start()
    yield Runtime(settings, store, bus, provider, ingestor)
    ingestor.stop()
    store.close()


def wait_until(predicate, timeout: float) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def live_states() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, DashboardState) and not o.closed)


def test_closing_the_page_unsubscribes_its_session(runtime, browser, dash_port):
    pn.extension("tabulator")
    baseline = runtime.bus.subscriber_count()
    server = pn.serve({"app": lambda: build_dashboard(runtime)}, port=dash_port,
                      address="127.0.0.1", websocket_origin=f"127.0.0.1:{dash_port}",
                      show=False, threaded=True, check_unused_sessions_milliseconds=300,
                      unused_session_lifetime_milliseconds=500)
    try:
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{dash_port}/app")
        page.locator(".ps-props .tabulator-row").first.wait_for(timeout=30_000)
        assert runtime.bus.subscriber_count() == baseline + 1

        context.close()

        assert wait_until(lambda: runtime.bus.subscriber_count() == baseline, timeout=10)
        assert wait_until(lambda: live_states() == 0, timeout=5)
    finally:
        server.stop()
