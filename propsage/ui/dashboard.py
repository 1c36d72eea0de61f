"""The dashboard page: filters, status bar, scoreboard, props table, alert feeds and the
line-movement chart, all views of one session's ``DashboardState``, in a Bootstrap template
(unlike the Fast templates it fetches nothing from the internet, e.g. no Google fonts).
"""

from __future__ import annotations

from typing import Any

import panel as pn

from propsage.ui.chart import LineChart
from propsage.ui.feeds import AlertFeeds
from propsage.ui.filters import FiltersPanel
from propsage.ui.scoreboard import Scoreboard
from propsage.ui.state import DashboardState
from propsage.ui.status import StatusBar
from propsage.ui.table import PropsTable

TITLE = "PropSage · live props"


def build_dashboard(runtime: Any, **state_params: Any) -> pn.template.BootstrapTemplate:
    """One session's page on the process's runtime (call it once per session)."""
    state = DashboardState(runtime, **state_params)
    if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
        pn.state.on_session_destroyed(lambda _ctx: state.close())
    leagues = list(getattr(runtime.settings, "leagues", ()))
    status = StatusBar(state=state)
    template = pn.template.BootstrapTemplate(
        title=TITLE,
        sidebar=[FiltersPanel(state=state, leagues=leagues)],
        main=[
            status,
            Scoreboard(state=state),
            PropsTable(state=state),
            pn.Row(pn.Column(LineChart(state=state), sizing_mode="stretch_width"),
                   pn.Column(AlertFeeds(state=state), width=340), sizing_mode="stretch_width"),
        ],
        header_background="#0b3d2e", sidebar_width=300,
        # The busy spinner flips on every periodic tick of every session, and each flip
        # re-resolves its stylesheets: measured as the server's biggest cost with 10 sessions.
        busy_indicator=None,
    )
    template.dashboard_state = state  # for tests and benchmarks
    return template
