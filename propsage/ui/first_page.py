"""The first live page: pick a game, watch its board change in place."""

from __future__ import annotations

import pandas as pd
import panel as pn
import param
from panel.viewable import Viewer

from propsage.domain import EventKind, LiveEvent
from propsage.runtime import Runtime
from propsage.ui.session import SessionFeed

COLUMNS = ["player_name", "market", "book", "line_numeric", "over_price", "under_price",
           "implied_prob", "fair_line", "edge", "is_suspended", "last_updated"]


class FirstPage(Viewer):
    """Header (provider, games, last update) and a Tabulator of one game's board."""

    runtime = param.Parameter(doc="propsage.runtime.Runtime")
    game_id = param.String(default="")
    last_update = param.String(default="never")

    def __init__(self, **params):
        super().__init__(**params)
        rt: Runtime = self.runtime
        self._select = pn.widgets.Select(name="Game", options={}, width=420)
        self._table = pn.widgets.Tabulator(
            pd.DataFrame(columns=COLUMNS), pagination="remote", page_size=50,
            sizing_mode="stretch_width", disabled=True, show_index=False, name="board",
        )
        self._header = pn.pane.Markdown("", sizing_mode="stretch_width")
        self._refresh_games()
        self._select.param.watch(self._on_game, "value")
        self._feed = SessionFeed(rt.bus, self._topics(), self._on_events)
        self._load_board()

    def _topics(self) -> list[str]:
        return [f"game:{self.game_id}", "all"] if self.game_id else ["all"]

    def _refresh_games(self) -> None:
        games = self.runtime.store.games()
        opts = {f"{r.league.upper()} {r.away_team} @ {r.home_team} ({r.status})": r.id
                for r in games.itertuples()}
        self._select.options = opts
        if not self.game_id and opts:
            live = games[games["status"] == "live"]
            self.game_id = str((live if len(live) else games)["id"].iloc[0])
        if self.game_id:
            self._select.value = self.game_id
        self._update_header(len(games))

    def _update_header(self, n_games: int | None = None) -> None:
        if n_games is None:
            n_games = len(self._select.options)
        self._header.object = (
            f"**PropSage** · provider **{self.runtime.provider.name}** · "
            f"games **{n_games}** · last update **{self.last_update}**"
        )

    def _load_board(self) -> None:
        board = self.runtime.store.current_board(self.game_id) if self.game_id else pd.DataFrame()
        if board.empty:
            self._table.value = pd.DataFrame(columns=COLUMNS)
            return
        self._table.value = board.set_index("id")[COLUMNS]

    def _on_game(self, event: param.parameterized.Event) -> None:
        self.game_id = event.new or ""
        self._feed.resubscribe(self._topics())
        self._load_board()

    def _on_events(self, events: list[LiveEvent]) -> None:
        updates = [e.data for e in events if e.kind == EventKind.ODDS_UPDATE
                   and e.game_id == self.game_id]
        if any(e.kind == EventKind.GAME_STATE for e in events):
            self._refresh_games()
        if updates:
            rows = pd.concat(updates).drop_duplicates("id", keep="last").set_index("id")
            rows = rows[rows["is_active"].astype(bool)][COLUMNS]
            current = self._table.value
            known = rows.index.isin(current.index)
            if known.any():
                self._table.patch(rows[known])
            if (~known).any():
                self._table.stream(rows[~known])
            self.last_update = pd.Timestamp.now(tz="UTC").strftime("%H:%M:%S UTC")
            self._update_header()

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self._header, self._select, self._table, sizing_mode="stretch_width")
