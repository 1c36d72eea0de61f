"""The status bar: Live/Disconnected, measured latency, time since the last update, counts,
provider quota, and a banner when the provider is down (the stale data stays visible).
"""

from __future__ import annotations

import html
import time

import panel as pn
import param
from panel.custom import JSComponent
from panel.viewable import Viewer

from propsage.ui.state import DashboardState

PING_SECONDS = 2.0


class LiveProbe(JSComponent):
    """A pill that shows Live/Disconnected, latency and 'updated N s ago' in the browser.

    The server sets ``ping`` (its clock, ms) every couple of seconds; the browser echoes it in
    ``pong`` and the server measures the round trip. The browser shows 'Disconnected' when no
    ping arrived for three periods. Each applied batch sets ``stamp`` (the publish time of its
    oldest event); the browser records (stamp, arrival) pairs in
    ``window.__propsage_applied`` so the end-to-end benchmark can read them.
    """

    ping = param.Number(default=0.0)
    pong = param.Number(default=0.0)
    latency_ms = param.Number(default=float("nan"))
    last_update = param.Number(default=0.0, doc="ms epoch of the last applied odds update")
    stamp = param.Number(default=0.0)
    provider_up = param.Boolean(default=True)

    _esm = """
    export function render({ model, el }) {
      const pill = document.createElement("span");
      pill.className = "ps-live";
      pill.style.cssText = "font:600 13px system-ui,sans-serif;padding:3px 10px;" +
        "border-radius:12px;white-space:nowrap;display:inline-block";
      let lastPing = Date.now();
      const ago = (ms) => {
        if (!ms) return "waiting for data";
        const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
        return s < 60 ? `updated ${s} s ago` : `updated ${Math.floor(s / 60)} min ago`;
      };
      const draw = () => {
        const down = Date.now() - lastPing > PERIOD * 3;
        const ms = model.latency_ms;
        const lat = Number.isFinite(ms) ? `${Math.round(ms)} ms` : "…";
        if (down) {
          pill.textContent = "○ Disconnected";
          pill.style.background = "#6e7781"; pill.style.color = "#fff";
          pill.dataset.state = "disconnected";
        } else {
          const stale = model.provider_up ? "" : " · provider down";
          pill.textContent = `● Live · ${lat} · ${ago(model.last_update)}${stale}`;
          pill.style.background = model.provider_up ? "#1a7f37" : "#bf8700";
          pill.style.color = "#fff";
          pill.dataset.state = "live";
        }
        pill.title = "latency = measured server→browser→server round trip";
      };
      model.on("ping", () => { lastPing = Date.now(); model.pong = model.ping; draw(); });
      model.on("stamp", () => {
        const log = (window.__propsage_applied = window.__propsage_applied || []);
        log.push([model.stamp, Date.now()]);
        if (log.length > 10000) log.shift();
        el.dataset.stamp = String(model.stamp);
      });
      model.on(["latency_ms", "last_update", "provider_up"], draw);
      const timer = setInterval(draw, 500);
      model.on("remove", () => clearInterval(timer));
      draw();
      el.appendChild(pill);
    }
    """.replace("PERIOD", str(int(PING_SECONDS * 1000)))


class StatusBar(Viewer):
    """Status pill, counts and the provider-down banner."""

    state = param.ClassSelector(class_=DashboardState)

    def __init__(self, **params):
        super().__init__(**params)
        s = self.state
        self.probe = LiveProbe(margin=(8, 10))
        self._info = pn.pane.HTML("", margin=(8, 10), sizing_mode="stretch_width")
        self._banner = pn.pane.Alert("", alert_type="danger", visible=False,
                                     sizing_mode="stretch_width", margin=(0, 10))
        self.probe.param.watch(self._on_pong, "pong")
        s.param.watch(self._on_heartbeat, "heartbeat")
        s.param.watch(self._on_stamp, "stamp")
        s.param.watch(self._render, ["n_rows", "n_total", "quota", "games", "provider_up",
                                     "provider_error", "stale_games", "last_update"])
        self._render()
        self._on_heartbeat()

    def _on_heartbeat(self, *_: object) -> None:
        self.probe.ping = time.time() * 1000.0

    def _on_pong(self, event: param.parameterized.Event) -> None:
        if event.new:
            self.probe.latency_ms = time.time() * 1000.0 - float(event.new)

    def _on_stamp(self, event: param.parameterized.Event) -> None:
        self.probe.param.update(stamp=event.new, last_update=self.state.last_update * 1000.0)

    def _render(self, *_: object) -> None:
        s = self.state
        games = s.games
        n_games = 0 if games is None else len(games)
        n_live = 0 if games is None else int((games["status"] == "live").sum())
        quota = "unmetered" if s.quota is None else f"{s.quota:,} left"
        last = time.strftime("%H:%M:%S", time.localtime(s.last_update)) if s.last_update \
            else "never"
        stale = ""
        if s.stale_games:
            stale = (f' · <span class="ps-stale" style="color:#bf8700;font-weight:600">'
                     f'⚠ {len(s.stale_games)} game(s) stale</span>')
        self._info.object = (
            f'<span class="ps-status" style="font-size:13px">provider '
            f'<b>{html.escape(s.provider_name)}</b> ({quota}) · games <b>{n_games}</b> '
            f'(<b>{n_live}</b> live) · props <b class="ps-nrows">{s.n_rows:,}</b> of '
            f'{s.n_total:,} · last update <b class="ps-last">{last}</b>{stale}</span>')
        self.probe.provider_up = s.provider_up
        if not s.provider_up:
            self._banner.object = (
                f"**Provider {html.escape(s.provider_name)} is down** — "
                f"{html.escape(s.provider_error or 'no response')}. Showing the last known odds "
                "(marked STALE) until it recovers.")
            self._banner.visible = True
        elif self._banner.visible:
            self._banner.visible = False

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(pn.Row(self.probe, self._info, sizing_mode="stretch_width"),
                         self._banner, sizing_mode="stretch_width", margin=0)
