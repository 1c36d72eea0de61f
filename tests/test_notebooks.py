"""The research notebooks run headless on the generated sample (and on ../shared/data when present)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from propsage.backtest.sample import build_sample

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = ["01_explore_store.ipynb", "02_line_movement_and_steam.ipynb",
         "03_devig_methods.ipynb", "04_backtest.ipynb"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One sample store for all four notebooks."""
    return build_sample(tmp_path_factory.mktemp("sample") / "sample.duckdb")


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_headless(name, sample, monkeypatch):
    monkeypatch.setenv("PROPSAGE_SAMPLE_DB", str(sample))
    monkeypatch.setenv("PROPSAGE_NOTEBOOK_LIGHT", "1")      # the slow real-data import is skipped
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    # 'python3' is ipykernel's own spec; jupyter_client starts it with this interpreter.
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()      # raises CellExecutionError on the first failing cell
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors


@pytest.mark.parametrize("name", NAMES)
def test_notebooks_are_committed_without_outputs(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
