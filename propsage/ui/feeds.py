"""Alert feeds: steam and significant line moves; arbitrage and middles (from analytics)."""

from __future__ import annotations

import panel as pn
import param
from panel.viewable import Viewer

from propsage.ui.alerts import render_items
from propsage.ui.state import DashboardState

STEAM_EMPTY = "No steam moves yet: they appear here as soon as the analytics detect them."
OPPORTUNITY_EMPTY = "No arbitrage or middles right now."


class AlertFeeds(Viewer):
    """Two lists, newest first, each with its empty state."""

    state = param.ClassSelector(class_=DashboardState)

    def __init__(self, **params):
        super().__init__(**params)
        self._steam = pn.pane.HTML(render_items([], STEAM_EMPTY), sizing_mode="stretch_width",
                                   css_classes=["ps-steam"], max_height=260,
                                   styles={"overflow-y": "auto"})
        self._opps = pn.pane.HTML(render_items([], OPPORTUNITY_EMPTY),
                                  sizing_mode="stretch_width", css_classes=["ps-opps"],
                                  max_height=260, styles={"overflow-y": "auto"})
        self.state.param.watch(self._render_steam, "steam_items")
        self.state.param.watch(self._render_opps, "opportunity_items")

    def _render_steam(self, event: param.parameterized.Event) -> None:
        self._steam.object = render_items(event.new, STEAM_EMPTY)

    def _render_opps(self, event: param.parameterized.Event) -> None:
        self._opps.object = render_items(event.new, OPPORTUNITY_EMPTY)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            pn.pane.HTML("<b>Steam &amp; line moves</b>", margin=(4, 10)), self._steam,
            pn.pane.HTML("<b>Arbitrage &amp; middles</b>", margin=(4, 10)), self._opps,
            sizing_mode="stretch_width")
