"""The sidebar: league, game, market, book, minimum edge, live only, player search, sort."""

from __future__ import annotations

import panel as pn
import param
from panel.viewable import Viewer

from propsage.ui.props import SORTS, market_label
from propsage.ui.state import DashboardState
from propsage.ui.widgets import label


class FiltersPanel(Viewer):
    """Widgets that write the state's filter parameters (and follow its option lists)."""

    state = param.ClassSelector(class_=DashboardState)
    leagues = param.List(default=[])

    def __init__(self, **params):
        super().__init__(**params)
        s = self.state
        leagues = {"All leagues": "", **{lg.upper(): lg for lg in self.leagues}}
        self.league = pn.widgets.Select(**label("League"), options=leagues, value=s.league)
        self.game = pn.widgets.Select(**label("Game"), options=self._game_opts(), value=s.game_id)
        self.market = pn.widgets.Select(**label("Market"), options=self._market_opts(),
                                        value=s.market)
        self.book = pn.widgets.Select(**label("Book"), options=self._book_opts(), value=s.book)
        self.min_edge = pn.widgets.FloatSlider(**label("Minimum edge (%)"), start=0, end=20,
                                               step=0.5, value=float(s.min_edge))
        self.live_only = pn.widgets.Switch(**label("Live only"), value=s.live_only)
        self.player = pn.widgets.TextInput(**label("Player"), placeholder="search a player…",
                                           value=s.player)
        self.sort_by = pn.widgets.Select(**label("Sort by"), options=list(SORTS), value=s.sort_by)
        self.league.param.watch(self._on_league, "value")
        self.game.param.watch(lambda e: setattr(s, "game_id", e.new or ""), "value")
        self.market.param.watch(lambda e: setattr(s, "market", e.new or ""), "value")
        self.book.param.watch(lambda e: setattr(s, "book", e.new or ""), "value")
        self.min_edge.param.watch(lambda e: setattr(s, "min_edge", float(e.new)), "value")
        self.live_only.param.watch(lambda e: setattr(s, "live_only", bool(e.new)), "value")
        self.player.param.watch(lambda e: setattr(s, "player", e.new or ""), "value_input")
        self.sort_by.param.watch(lambda e: setattr(s, "sort_by", e.new), "value")
        s.param.watch(self._follow, ["game_options", "market_options", "book_options"])

    def _on_league(self, event: param.parameterized.Event) -> None:
        # One update, one reload: the game list narrows to the league.
        self.state.param.update(league=event.new or "", game_id="")
        self.game.options = self._game_opts()
        self.game.value = ""

    def _game_opts(self) -> dict[str, str]:
        s = self.state
        opts = {lbl: gid for lbl, gid in s.game_options.items()
                if not s.league or lbl.lower().startswith(s.league + " ")}
        return {"All games": "", **opts}

    def _market_opts(self) -> dict[str, str]:
        return {"All markets": "", **{market_label(m): m for m in self.state.market_options}}

    def _book_opts(self) -> dict[str, str]:
        return {"Best of all books": "", **{b: b for b in self.state.book_options}}

    def _follow(self, event: param.parameterized.Event) -> None:
        widget, opts = {
            "game_options": (self.game, self._game_opts),
            "market_options": (self.market, self._market_opts),
            "book_options": (self.book, self._book_opts),
        }[event.name]
        value = widget.value
        new = opts()
        widget.options = new
        widget.value = value if value in new.values() else ""

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self.league, self.game, self.market, self.book, self.min_edge,
                         self.live_only,
                         self.player, self.sort_by, sizing_mode="stretch_width")
