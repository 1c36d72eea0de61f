"""Shared fixtures: real DuckDB files in temp dirs, the simulated market, a bus."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from propsage.bus import EventBus
from propsage.paths import shared_data
from propsage.providers.mock import MockDataProvider
from propsage.store import Store

# The settings loader reads ./.env; tests must not depend on a developer's file or env.
for _k in list(os.environ):
    if _k.startswith("PROPSAGE_") and _k != "PROPSAGE_SHARED_DATA":
        os.environ.pop(_k)

FIXTURES = Path(__file__).parent / "fixtures"
T0 = pd.Timestamp("2025-11-20T18:00:00Z")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A fresh DuckDB file path in a temp dir."""
    return tmp_path / "propsage.duckdb"


@pytest.fixture
def store(db_path: Path):
    """A real store on a temp DuckDB file."""
    s = Store(db_path)
    yield s
    s.close()


@pytest.fixture
def bus() -> EventBus:
    """A fresh event bus."""
    return EventBus()


@pytest.fixture
def mock_provider() -> MockDataProvider:
    """A small deterministic simulated market."""
    return MockDataProvider(("nfl", "nba"), n_games=6, seed=11)


@pytest.fixture
def shared() -> Path:
    """The shared real-data folder, or skip."""
    path = shared_data()
    if path is None:
        pytest.skip("../shared/data is absent")
    return path
