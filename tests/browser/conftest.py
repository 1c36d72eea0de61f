"""Browser tests: a real ``panel serve app`` on the mock provider, driven by Debian Chromium.

The server is one subprocess for the whole session (real scheduler on short intervals, DuckDB
file in a temp dir). Playwright launches ``/usr/bin/chromium`` headless; browsers are never
downloaded (no ``playwright install``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from propsage.serving import free_port, wait_http

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]

pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)",
                allow_module_level=True)


def serve_env(db: Path, **extra: str) -> dict[str, str]:
    """The server's environment: mock provider, temp DB, short poll intervals."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROPSAGE_")}
    env.update({
        "PROPSAGE_PROVIDER": "mock", "PROPSAGE_DB": str(db),
        "PROPSAGE_LIVE_INTERVAL": "1", "PROPSAGE_PREGAME_INTERVAL": "3",
        "PROPSAGE_MOCK_GAMES": "9", "PROPSAGE_MOCK_SEED": "7", "PROPSAGE_LOG_LEVEL": "WARNING",
    })
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def served_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a real ``panel serve app`` subprocess; stopped after the session."""
    tmp = tmp_path_factory.mktemp("served")
    port = free_port()
    panel = Path(sys.executable).with_name("panel")
    cmd = [str(panel) if panel.exists() else shutil.which("panel") or "panel", "serve", "app",
           "--port", str(port), "--address", "127.0.0.1",
           "--allow-websocket-origin", f"127.0.0.1:{port}",
           "--check-unused-sessions", "500", "--unused-session-lifetime", "1000"]
    log = open(tmp / "server.log", "w")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(cmd, cwd=REPO, env=serve_env(tmp / "propsage.duckdb"),
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/app"
    try:
        wait_http(url, 60, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy(tmp / "server.log", ARTIFACTS / "server.log")


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict:
    """pytest-playwright: launch Debian's Chromium, headless."""
    return {"executable_path": CHROMIUM, "headless": True, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args() -> dict:
    """pytest-playwright: a desktop-sized window."""
    return {"viewport": {"width": 1500, "height": 1100}}


@pytest.fixture
def console_errors(page) -> list[str]:  # noqa: ANN001 - playwright Page
    """Errors the page logs to its console or throws, collected while the test runs."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


@pytest.fixture
def artifacts() -> Path:
    """The git-ignored folder for screenshots."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


class Dash:
    """Playwright helpers for the dashboard page."""

    TABLE = ".ps-props .tabulator-table"

    def __init__(self, page):  # noqa: ANN001 - playwright Page
        self.page = page

    def open(self, url: str) -> None:
        """Open the page and wait until the props table shows rows."""
        self.page.goto(url)
        self.rows().first.wait_for(timeout=30_000)

    def rows(self):  # noqa: ANN201
        """The props table's row elements."""
        return self.page.locator(f"{self.TABLE} .tabulator-row")

    def table_text(self) -> str:
        """The text of every rendered cell of the props table."""
        return self.page.locator(self.TABLE).inner_text()

    def select(self, name: str):  # noqa: ANN201
        """The sidebar <select> whose label is ``name``."""
        return self.page.locator(".bk-input-group", has_text=name).locator("select").first

    @staticmethod
    def wait_until(predicate, timeout: float = 20.0, every: float = 0.25):  # noqa: ANN001, ANN205
        """Poll ``predicate`` until it returns something truthy; return its last value."""
        deadline = time.monotonic() + timeout
        value = predicate()
        while not value and time.monotonic() < deadline:
            time.sleep(every)
            value = predicate()
        return value


@pytest.fixture
def dash(page) -> Dash:  # noqa: ANN001
    """Helpers bound to this test's page."""
    return Dash(page)


@pytest.fixture
def dash_port() -> int:
    """A free port for an in-process server."""
    return free_port()
