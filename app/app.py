"""Same page as app/main.py, for ``panel serve app/app.py``; ``panel serve app`` uses main.py."""

import panel as pn

from propsage.runtime import get_runtime
from propsage.ui.dashboard import build_dashboard

pn.extension("tabulator", notifications=True,
             disconnect_notification="Connection to the server lost: the odds shown are stale.")

build_dashboard(get_runtime()).servable(title="PropSage")
