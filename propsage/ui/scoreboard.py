"""The scoreboard: every game in scope with its state, clock and score, live games first."""

from __future__ import annotations

import html

import pandas as pd
import panel as pn
import param
from panel.viewable import Viewer

from propsage.ui.state import DashboardState

MAX_CARDS = 12


def render_games(games: pd.DataFrame | None, stale: set[str] | frozenset[str] = frozenset(),
                 limit: int = MAX_CARDS) -> str:
    """HTML cards for the first ``limit`` games (live first; an empty state when none is live)."""
    if games is None or games.empty:
        return '<div class="ps-empty" style="color:#777;padding:6px">No games yet.</div>'
    cards = []
    if not (games["status"] == "live").any():
        cards.append('<div class="ps-nolive" style="color:#777;padding:14px 8px">'
                     '<b>No games live</b> right now.</div>')
    for g in games.head(limit).itertuples():
        if g.status == "live":
            badge = ('<span style="background:#d62728;color:#fff;border-radius:3px;'
                     'padding:0 4px;font-size:10px;font-weight:700">LIVE</span>')
            when = f"Q{g.period} {html.escape(str(g.clock or ''))}" if g.league != "mlb" \
                else f"inn. {g.period} {html.escape(str(g.clock or ''))}"
        elif g.status == "final":
            badge = '<span style="color:#777;font-size:10px;font-weight:700">FINAL</span>'
            when = ""
        else:
            badge = '<span style="color:#0969da;font-size:10px;font-weight:700">UPCOMING</span>'
            when = pd.Timestamp(g.start_time).tz_convert("UTC").strftime("%a %H:%M UTC")
        if g.id in stale:
            badge += (' <span style="background:#bf8700;color:#fff;border-radius:3px;'
                      'padding:0 4px;font-size:10px">STALE</span>')
        hs = "" if pd.isna(g.home_score) else int(g.home_score)
        as_ = "" if pd.isna(g.away_score) else int(g.away_score)
        cards.append(
            f'<div class="ps-game" data-game="{html.escape(g.id)}" style="min-width:190px;'
            'border:1px solid #d0d7de;border-radius:6px;padding:6px 8px;font-size:12px;'
            f'background:#fff">{badge} <span style="color:#777">{g.league.upper()} {when}'
            f'</span><div style="display:flex;justify-content:space-between"><span>'
            f'{html.escape(g.away_team)}</span><b>{as_}</b></div>'
            f'<div style="display:flex;justify-content:space-between"><span>'
            f'{html.escape(g.home_team)}</span><b>{hs}</b></div></div>')
    if len(games) > limit:
        cards.append(f'<div class="ps-more" style="color:#777;padding:14px 8px;white-space:nowrap">'
                     f'+{len(games) - limit} more (pick a league or game to narrow)</div>')
    return ('<div class="ps-scoreboard" style="display:flex;gap:8px;overflow-x:auto;'
            'padding:4px 2px">' + "".join(cards) + "</div>")


class Scoreboard(Viewer):
    """Re-renders when the games in scope change (a handful of small cards)."""

    state = param.ClassSelector(class_=DashboardState)

    def __init__(self, **params):
        super().__init__(**params)
        self._pane = pn.pane.HTML(self._html(), sizing_mode="stretch_width")
        self.state.param.watch(self._render, ["games", "stale_games"])

    def _html(self) -> str:
        return render_games(self.state.games, set(self.state.stale_games))

    def _render(self, *_: object) -> None:
        self._pane.object = self._html()

    def __panel__(self) -> pn.viewable.Viewable:
        return self._pane
