"""PropSage live page: the current board of a game, updated in place as ingest publishes.

Run from the repo root: ``panel serve app`` (or ``make run``).
"""

import panel as pn

from propsage.runtime import get_runtime
from propsage.ui.first_page import FirstPage

pn.extension("tabulator", notifications=True)

FirstPage(runtime=get_runtime()).servable(title="PropSage")
