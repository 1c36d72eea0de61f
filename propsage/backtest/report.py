"""Backtest reports: one self-contained HTML page (bokeh plots via HoloViews) or JSON.

The HTML page holds the headline numbers, the equity curves (flat units and Kelly bankroll),
the calibration (reliability) plot of the model's probabilities for the sides bet, the
histogram of CLV as EV (line-aware, with the same-line-only variant beside it), CLV by book,
and the tables by market, by book and walk-forward.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from propsage.backtest.metrics import calibration, equity_curve, summarize

if TYPE_CHECKING:
    from propsage.backtest.engine import BacktestResult

MAX_JSON_BETS = 10_000
BET_COLUMNS = ["decided_at", "start_time", "game_id", "league", "player_id", "market", "book",
               "line_numeric", "side", "price", "p_model", "ev", "outcome", "profit_flat",
               "stake_kelly", "profit_kelly", "p_close", "clv_ev", "line_close",
               "clv_ev_same_line"]


def report_dict(result: BacktestResult, summary: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON report: summary plus the bets (when not too many)."""
    out = dict(summary or summarize(result))
    bets = result.bets
    cols = [c for c in BET_COLUMNS if c in bets]
    out["bets_total"] = int(len(bets))
    if len(bets) <= MAX_JSON_BETS:
        b = bets[cols].copy()
        for c in b.columns:
            if pd.api.types.is_datetime64_any_dtype(b[c]):
                b[c] = b[c].astype(str)
        out["bets"] = json.loads(b.to_json(orient="records"))
    return out


def write_json(result: BacktestResult, path: str | Path,
               summary: dict[str, Any] | None = None) -> Path:
    """Write the JSON report."""
    path = Path(path)
    path.write_text(json.dumps(report_dict(result, summary), indent=1, default=_default))
    return path


def _default(v: Any) -> Any:
    if isinstance(v, np.integer | np.bool_):
        return v.item()
    if isinstance(v, np.floating):
        return None if math.isnan(float(v)) else float(v)
    return str(v)


def _fmt(v: Any, pct: bool = False) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, float):
        return f"{100 * v:.1f} %" if pct else f"{v:.4g}"
    return html.escape(str(v))


def _ci(v: list[float] | None) -> str:
    if not v or v[0] is None or (isinstance(v[0], float) and math.isnan(v[0])):
        return ""
    return f" [{100 * v[0]:.1f}, {100 * v[1]:.1f}] %"


def _table(records: list[dict[str, Any]], title: str) -> str:
    if not records:
        return f"<h3>{html.escape(title)}</h3><p>none</p>"
    cols = list(records[0])
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in cols)
    rows = "".join("<tr>" + "".join(f"<td>{_fmt(r.get(c))}</td>" for c in cols) + "</tr>"
                   for r in records)
    return (f"<h3>{html.escape(title)}</h3><table class='ps'><thead><tr>{head}</tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def _headline(s: dict[str, Any]) -> str:
    hr, flat, kelly, clv = s["hit_rate"], s["flat"], s["kelly"], s.get("clv", {})
    la = clv.get("line_aware", {})
    sl = clv.get("same_line_only", {})
    fc = s.get("forecasts", {})
    items = [
        ("bets", s["info"].get("bets")), ("games", s["info"].get("games")),
        ("flat ROI", _fmt(flat["roi"], True) + _ci(flat["roi_ci"])),
        ("flat profit (units)", _fmt(flat["profit"])),
        ("Kelly final bankroll", _fmt(kelly["final"])),
        ("Kelly max drawdown", _fmt(kelly["max_drawdown"])),
        ("hit rate", _fmt(hr["hit_rate"], True) + _ci(hr["hit_rate_ci"])),
        ("break-even rate", _fmt(hr["break_even"], True)),
        ("beat the close (line-aware)", _fmt(la.get("beat_close"), True)
         + _ci(la.get("beat_close_ci"))),
        ("mean CLV as EV", _fmt(la.get("clv_ev_mean"), True)),
        ("beat the close (same line only)", _fmt(sl.get("beat_close"), True)
         + f" of {sl.get('n', 0)}"),
        ("bets whose line moved (against)", f"{clv.get('line_moved', 0)} "
         f"({clv.get('line_moved_against', 0)})"),
    ]
    if fc.get("n"):
        d = fc["log_loss_diff"]
        items.append(("log loss model / market (nats)",
                      f"{fc['log_loss_model']:.4f} / {fc['log_loss_market']:.4f} "
                      f"(diff {d['mean_diff']:+.4f} ± {d['se']:.4f}, n={fc['n']})"))
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{v if isinstance(v, str) else _fmt(v)}"
                   "</td></tr>" for k, v in items)
    return f"<table class='ps'>{rows}</table>"


def _plots(result: BacktestResult) -> list[Any]:
    import holoviews as hv

    hv.renderer("bokeh")                      # loads the bokeh backend (no notebook output)
    hv.Store.set_current_backend("bokeh")

    bets = result.bets
    plots = []
    if bets.empty:
        return plots
    s = result.strategy
    flat = equity_curve(bets, "flat")
    kelly = equity_curve(bets, "kelly", s.bankroll)
    eq = (hv.Curve(flat, "settled_at", "equity", label="flat (units)")
          * hv.Curve(kelly.assign(equity=kelly["equity"] - s.bankroll), "settled_at", "equity",
                     label="Kelly (profit)")).opts(
        hv.opts.Curve(width=560, height=300, tools=["hover"]),
        hv.opts.Overlay(title="Equity curve", legend_position="top_left"))
    plots.append(eq)
    decided = bets[bets["won"].notna()]
    cal = calibration(decided["p_model"], decided["won"], bins=10)
    if len(cal):
        diag = hv.Curve([(0, 0), (1, 1)], "forecast", "observed").opts(color="gray",
                                                                        line_dash="dashed")
        err = hv.ErrorBars((cal["p_mean"], cal["observed"], cal["observed"] - cal["ci_low"],
                            cal["ci_high"] - cal["observed"]), "forecast",
                           ["observed", "neg", "pos"])
        pts = hv.Scatter(cal, "p_mean", ["observed", "n"]).opts(size=8, tools=["hover"])
        plots.append((diag * err * pts).opts(
            hv.opts.Overlay(title="Calibration of bets (model prob of the side)", width=420,
                            height=300)))
    clv = bets["clv_ev"].dropna()
    if len(clv):
        edges = np.linspace(max(-0.3, clv.min()), min(0.3, clv.max()) + 1e-9, 31)
        h1 = hv.Histogram(np.histogram(clv.clip(edges[0], edges[-1]), edges),
                          kdims="clv_ev", label="line-aware").opts(alpha=0.6)
        same = bets["clv_ev_same_line"].dropna()
        layers = h1
        if len(same):
            h2 = hv.Histogram(np.histogram(same.clip(edges[0], edges[-1]), edges),
                              kdims="clv_ev", label="same line only").opts(alpha=0.4)
            layers = h1 * h2
        zero = hv.VLine(0).opts(color="black")
        plots.append((layers * zero).opts(hv.opts.Overlay(
            title="CLV as EV at the close", width=560, height=300, legend_position="top_right")))
        by_book = bets.groupby("book")["clv_ev"].mean().sort_values()
        plots.append(hv.Bars(pd.DataFrame({"book": by_book.index, "clv_ev": by_book.values}),
                             "book", "clv_ev").opts(title="Mean CLV as EV by book", width=420,
                                                    height=300, xrotation=45))
    return [hv.render(p, backend="bokeh") for p in plots]


def write_html(result: BacktestResult, path: str | Path,
               summary: dict[str, Any] | None = None) -> Path:
    """Write the self-contained HTML report (bokeh resources inlined)."""
    from bokeh.embed import file_html
    from bokeh.layouts import column, gridplot
    from bokeh.models import Div
    from bokeh.resources import INLINE

    s = summary or summarize(result)
    figs = _plots(result)
    style = ("<style>table.ps{border-collapse:collapse;font:13px sans-serif}"
             "table.ps td,table.ps th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
             "</style>")
    head = Div(text=f"{style}<h2>Backtest: {html.escape(result.strategy.name)}</h2>"
               f"<p>{html.escape(json.dumps(s['strategy'], default=str))}</p>{_headline(s)}",
               width=1000)
    tables = Div(text=_table(s.get("by_market", []), "By market")
                 + _table(s.get("clv_by_book", []), "CLV by book")
                 + _table(s.get("by_book", []), "By book")
                 + _table(s.get("walk_forward", []), "Walk-forward (min EV chosen on earlier folds)"),
                 width=1000)
    items = [head]
    if figs:
        items.append(gridplot([figs[i:i + 2] for i in range(0, len(figs), 2)]))
    items.append(tables)
    path = Path(path)
    path.write_text(file_html(column(*items), resources=INLINE,
                              title=f"PropSage backtest: {result.strategy.name}"))
    return path


def write_report(result: BacktestResult, path: str | Path) -> Path:
    """Write ``.html`` or ``.json`` by the path's suffix."""
    path = Path(path)
    summary = summarize(result)
    if path.suffix.lower() == ".json":
        return write_json(result, path, summary)
    if path.suffix.lower() in (".html", ".htm"):
        return write_html(result, path, summary)
    raise ValueError(f"report must be .html or .json, got {path.name}")
