"""Where things live: the repo, the default DB file, the shared real-data folder."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = REPO / "data"


def shared_data() -> Path | None:
    """The shared real-data folder (``PROPSAGE_SHARED_DATA`` or ``../shared/data``), or None if absent."""
    env = os.environ.get("PROPSAGE_SHARED_DATA")
    path = Path(env) if env else REPO.parent / "shared" / "data"
    return path if path.is_dir() else None
