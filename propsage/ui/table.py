"""The props table: one page of rows in a Tabulator, patched cell by cell as odds change."""

from __future__ import annotations

import panel as pn
import param
from panel.viewable import Viewer

from propsage.ui.props import DISPLAY_COLUMNS, HTML_COLUMNS
from propsage.ui.state import DashboardState, TableUpdate
from propsage.ui.widgets import label

WIDTHS = {"badge": 70, "player": 190, "team": 160, "market": 100, "line": 80, "over": 145,
          "under": 145, "fair": 60, "edge": 75, "ev": 65, "conf": 55}


class PropsTable(Viewer):
    """Applies the state's ``TableUpdate``s to a Tabulator; clicking a row selects it.

    The widget holds only the current page, without Tabulator's own sorters, filters or
    pagination (those make Tabulator re-send all rows on every patch); the session state does
    them in Python and the pager below moves through its pages.
    """

    state = param.ClassSelector(class_=DashboardState)

    def __init__(self, **params):
        super().__init__(**params)
        s = self.state
        self.table = pn.widgets.Tabulator(
            s.page_rows(), show_index=False, disabled=True, sortable=False,
            selectable=False, pagination=None, titles=dict(DISPLAY_COLUMNS),
            formatters={c: {"type": "html"} for c in HTML_COLUMNS}, widths=WIDTHS,
            layout="fit_data_stretch", sizing_mode="stretch_width", height=560,
            css_classes=["ps-props"],
        )
        self.table.on_click(self._on_click)
        self._prev = pn.widgets.Button(**label("◀ Prev"), width=80, margin=(4, 4))
        self._next = pn.widgets.Button(**label("Next ▶"), width=80, margin=(4, 4))
        self._page = pn.pane.HTML("", margin=(10, 8))
        self._size = pn.widgets.Select(options=[25, 50, 100, 200], value=s.page_size, width=80,
                                       margin=(4, 4))
        self._resort = pn.widgets.Button(**label("⟳ Re-sort"), width=100, margin=(4, 4),
                                         description="Rows keep their place while they update; "
                                                     "re-sort to order them again")
        self._empty = pn.pane.HTML("", visible=False, sizing_mode="stretch_width",
                                   css_classes=["ps-empty"])
        self._prev.on_click(lambda _: self._go(-1))
        self._next.on_click(lambda _: self._go(+1))
        self._resort.on_click(lambda _: s.resort())
        self._size.param.watch(lambda e: setattr(s, "page_size", int(e.new)), "value")
        s.param.watch(self._apply, "table_update")
        s.param.watch(self._pager, ["page", "n_pages", "n_rows", "loading", "live_only", "games"])
        self._pager()

    def _go(self, step: int) -> None:
        s = self.state
        s.page = min(max(1, s.page + step), s.n_pages)

    def _on_click(self, event) -> None:  # noqa: ANN001 - panel's CellClickEvent
        if event.row is not None:
            self.state.select_row(int(event.row))

    def _apply(self, event: param.parameterized.Event) -> None:
        upd: TableUpdate = event.new
        if upd is None:
            return
        if upd.kind == "reset" or self.table.value is None or self.table.value.empty:
            self.table.value = self.state.page_rows().copy()
            return
        if upd.patch:
            self.table.patch(upd.patch, as_index=False)
        if upd.stream is not None and len(upd.stream):
            self.table.stream(upd.stream, follow=False)

    def _pager(self, *_: object) -> None:
        s = self.state
        self._page.object = (f'<span style="font-size:13px">page <b>{s.page}</b> of '
                             f'{s.n_pages} · {s.n_rows:,} props</span>')
        self._prev.disabled = s.page <= 1
        self._next.disabled = s.page >= s.n_pages
        if s.n_rows:
            self._empty.visible = False
            return
        games = s.games
        n_live = 0 if games is None else int((games["status"] == "live").sum())
        if s.loading:
            text = ('<div class="ps-skeleton" style="padding:16px;color:#555">'
                    '<b>Loading odds…</b> waiting for the first poll of the provider.</div>')
        elif s.live_only and n_live == 0:
            text = '<div style="padding:16px;color:#555"><b>No games live</b> right now.</div>'
        elif s.n_total == 0:
            text = '<div style="padding:16px;color:#555"><b>No odds yet</b> for this scope.</div>'
        else:
            text = ('<div style="padding:16px;color:#555"><b>No props match the filters.</b>'
                    '</div>')
        self._empty.object = text
        self._empty.visible = True

    def __panel__(self) -> pn.viewable.Viewable:
        bar = pn.Row(self._prev, self._page, self._next, pn.pane.HTML(
            '<span style="font-size:13px">rows per page</span>', margin=(10, 4)),
            self._size, self._resort, sizing_mode="stretch_width")
        return pn.Column(self._empty, self.table, bar, sizing_mode="stretch_width")
