"""The detail view: a prop's line and no-vig probability over time per book, streamed.

New points go through ``ColumnDataSource.stream`` (with rollover), always on the session's
loop (the state emits them from its tick), never from the ingest thread.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import panel as pn
import param
from bokeh.layouts import column
from bokeh.models import ColumnDataSource, HoverTool
from bokeh.palettes import Category10_10
from bokeh.plotting import figure
from panel.viewable import Viewer

from propsage.ui.props import book_label
from propsage.ui.state import ChartUpdate, DashboardState

ROLLOVER = 2000


def _ms(t: pd.Series) -> np.ndarray:
    """UTC timestamps as float ms since the epoch (what Bokeh's datetime axis reads)."""
    ts = pd.to_datetime(t, utc=True)
    return ts.array.as_unit("ms").asi8.astype(float) if len(ts) else np.array([], dtype=float)


def _point_data(points: pd.DataFrame) -> dict[str, np.ndarray]:
    return {"t": _ms(points["t"]), "line": points["line"].to_numpy(float),
            "prob": points["prob"].to_numpy(float),
            "over": points["over_price"].to_numpy(float),
            "under": points["under_price"].to_numpy(float)}


class LineChart(Viewer):
    """Line (top) and no-vig P(over) (bottom) per book, fair line dashed, steam as triangles."""

    state = param.ClassSelector(class_=DashboardState)

    def __init__(self, **params):
        super().__init__(**params)
        self.sources: dict[str, ColumnDataSource] = {}
        self.fair = ColumnDataSource({"t": [], "fair_line": []}, name="fair")
        self.marks = ColumnDataSource({"t": [], "line": [], "label": []}, name="marks")
        tools = "pan,xwheel_zoom,box_zoom,reset,save"
        self.line_fig = figure(x_axis_type="datetime", height=260, tools=tools,
                               sizing_mode="stretch_width", title="Line",
                               y_axis_label="line")
        self.prob_fig = figure(x_axis_type="datetime", height=200, tools=tools,
                               sizing_mode="stretch_width", x_range=self.line_fig.x_range,
                               title="No-vig P(over)", y_axis_label="probability")
        self.line_fig.line("t", "fair_line", source=self.fair, line_dash="dashed",
                           line_width=2, color="black", legend_label="fair")
        self.line_fig.scatter("t", "line", source=self.marks, marker="triangle", size=12,
                              color="#8250df", legend_label="steam")
        self.prob_fig.line([], [], alpha=0)  # a renderer from the start (no bokeh warning)
        for fig in (self.line_fig, self.prob_fig):
            fig.add_tools(HoverTool(tooltips=[("time", "@t{%H:%M:%S}"), ("line", "@line"),
                                              ("over", "@over"), ("under", "@under"),
                                              ("P(over)", "@prob{0.000}")],
                                    formatters={"@t": "datetime"}))
        self.line_fig.x_range.min_interval = 120_000  # ms: one poll's points still read as clock time
        self.line_fig.legend.location = "top_left"
        self.line_fig.legend.click_policy = "hide"
        self._title = pn.pane.HTML("", margin=(4, 10))
        self._hint = pn.pane.HTML(
            '<div class="ps-chart-empty" style="padding:12px;color:#666">Click a row of the '
            'table to follow its line and no-vig probability per book.</div>')
        self._plot = pn.Column(pn.pane.Bokeh(column(self.line_fig, self.prob_fig,
                                                    sizing_mode="stretch_width"),
                                             sizing_mode="stretch_width"),
                               sizing_mode="stretch_width", visible=False)
        self.state.param.watch(self._apply, "chart_update")

    def _source(self, book: str) -> ColumnDataSource:
        src = self.sources.get(book)
        if src is None:
            src = ColumnDataSource({"t": [], "line": [], "prob": [], "over": [], "under": []},
                                   name=f"line-{book}")
            color = Category10_10[len(self.sources) % 10]
            label = book_label(book)
            self.line_fig.step("t", "line", source=src, mode="after", color=color,
                               line_width=2, legend_label=label)
            self.line_fig.scatter("t", "line", source=src, color=color, size=4)
            self.prob_fig.line("t", "prob", source=src, color=color, line_width=2)
            self.prob_fig.scatter("t", "prob", source=src, color=color, size=4)
            self.sources[book] = src
        return src

    def _apply(self, event: param.parameterized.Event) -> None:
        upd: ChartUpdate = event.new
        if upd is None:
            return
        if upd.kind == "clear":
            self._plot.visible = False
            self._hint.visible = True
            self._title.object = ""
            return
        if upd.kind == "reset":
            self._title.object = (f'<b class="ps-chart-title" style="font-size:15px">'
                                  f'{html.escape(upd.title)}</b>')
            for src in self.sources.values():
                src.data = {k: [] for k in src.data}
            if upd.points is not None:
                for book, rows in upd.points.groupby("book", sort=True):
                    self._source(str(book)).data = _point_data(rows)
            self.fair.data = {"t": _ms(upd.fair["t"]) if upd.fair is not None else [],
                              "fair_line": upd.fair["fair_line"].to_numpy(float)
                              if upd.fair is not None else []}
            marks = upd.marks if upd.marks is not None else pd.DataFrame(
                columns=["t", "line", "label"])
            self.marks.data = {"t": _ms(marks["t"]), "line": marks["line"].to_numpy(float),
                               "label": marks["label"].astype(str).tolist()}
            self._hint.visible = False
            self._plot.visible = True
            return
        # stream: only the new points, each source on its own
        if upd.points is not None and len(upd.points):
            for book, rows in upd.points.groupby("book", sort=True):
                self._source(str(book)).stream(_point_data(rows), rollover=ROLLOVER)
        if upd.fair is not None and len(upd.fair):
            self.fair.stream({"t": _ms(upd.fair["t"]),
                              "fair_line": upd.fair["fair_line"].to_numpy(float)},
                             rollover=ROLLOVER)
        if upd.marks is not None and len(upd.marks):
            self.marks.stream({"t": _ms(upd.marks["t"]),
                               "line": upd.marks["line"].to_numpy(float),
                               "label": upd.marks["label"].astype(str).tolist()},
                              rollover=ROLLOVER)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self._title, self._hint, self._plot, sizing_mode="stretch_width")
