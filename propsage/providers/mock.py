"""A simulated player-prop market, deterministic for a seed.

Games across leagues move scheduled -> live -> final on the wall clock, with a clock and a
score. Each game has 15-25 players with their league's markets, quoted by 5 books. Every book
has its own hold (4-8 %) and a small shade, quotes half-point lines, and prices a line from
its own (lagging) view of the player's true mean, which random-walks. Now and then a steam move
hits one player-market: one book reacts at once, the others follow a few polls later. Markets
are suspended now and then during live play.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr

from propsage.domain import (
    GAME_MARKETS,
    LEAGUE_SPORT_KEYS,
    Game,
    GameStatus,
    as_offer_frame,
    normalize_player_id,
)
from propsage.providers.base import BaseProvider

MOCK_BOOKS = ("draftkings", "fanduel", "betmgm", "williamhill_us", "espnbet")

# market -> (mean range, sd as a share of the mean, floor of sd)
MARKET_SHAPES: dict[str, tuple[float, float, float, float]] = {
    "player_pass_yds": (180, 300, 0.22, 25),
    "player_pass_tds": (1.0, 2.4, 0.55, 0.6),
    "player_rush_yds": (25, 95, 0.40, 12),
    "player_rush_tds": (0.2, 0.8, 1.0, 0.4),
    "player_receptions": (2.5, 7.5, 0.40, 1.2),
    "player_reception_yds": (25, 95, 0.45, 12),
    "player_anytime_td": (0.15, 0.75, 0.0, 0.05),
    "player_points": (8, 30, 0.30, 3.5),
    "player_rebounds": (3, 12, 0.35, 1.6),
    "player_assists": (2, 9, 0.40, 1.4),
    "player_threes": (0.8, 3.8, 0.55, 0.9),
    "player_points_rebounds_assists": (14, 45, 0.25, 4.5),
    "batter_hits": (0.6, 1.4, 0.8, 0.6),
    "batter_total_bases": (1.0, 2.2, 0.8, 0.9),
    "pitcher_strikeouts": (3.5, 8.5, 0.35, 1.5),
}
POSITION_MARKETS: dict[str, dict[str, tuple[str, ...]]] = {
    "nfl": {
        "QB": ("player_pass_yds", "player_pass_tds", "player_rush_yds", "player_anytime_td"),
        "RB": ("player_rush_yds", "player_rush_tds", "player_receptions", "player_anytime_td"),
        "WR": ("player_receptions", "player_reception_yds", "player_anytime_td"),
        "TE": ("player_receptions", "player_reception_yds", "player_anytime_td"),
    },
    "nba": {p: ("player_points", "player_rebounds", "player_assists", "player_threes",
                "player_points_rebounds_assists") for p in ("G", "F", "C")},
    "mlb": {"B": ("batter_hits", "batter_total_bases"), "P": ("pitcher_strikeouts",)},
}
POSITION_MARKETS["cfb"] = POSITION_MARKETS["nfl"]
POSITION_MIX = {"nfl": "QB RB RB WR WR WR TE", "cfb": "QB RB RB WR WR WR TE",
                "nba": "G G F F C", "mlb": "B B B B P"}
GAME_LENGTH = {"nfl": 3.2, "cfb": 3.5, "nba": 2.4, "mlb": 3.0}  # hours
PERIODS = {"nfl": 4, "cfb": 4, "nba": 4, "mlb": 9}
TEAMS = {
    "nfl": ["Kansas City Chiefs", "Buffalo Bills", "Philadelphia Eagles", "Detroit Lions",
            "Baltimore Ravens", "San Francisco 49ers", "Green Bay Packers", "Dallas Cowboys",
            "Cincinnati Bengals", "Miami Dolphins", "Houston Texans", "Los Angeles Rams"],
    "cfb": ["Georgia Bulldogs", "Ohio State Buckeyes", "Texas Longhorns", "Oregon Ducks",
            "Alabama Crimson Tide", "Michigan Wolverines", "Penn State Nittany Lions",
            "Notre Dame Fighting Irish", "LSU Tigers", "Clemson Tigers"],
    "nba": ["Boston Celtics", "Denver Nuggets", "Oklahoma City Thunder", "Milwaukee Bucks",
            "New York Knicks", "Minnesota Timberwolves", "Phoenix Suns", "Dallas Mavericks",
            "Los Angeles Lakers", "Golden State Warriors", "Miami Heat", "Cleveland Cavaliers"],
    "mlb": ["New York Yankees", "Los Angeles Dodgers", "Atlanta Braves", "Houston Astros",
            "Philadelphia Phillies", "Baltimore Orioles", "Texas Rangers", "Seattle Mariners"],
}
FIRST = ["Jalen", "Marcus", "Tyler", "Devon", "Andre", "Chris", "Jordan", "Malik", "Cam",
         "Darius", "Isaiah", "Trey", "Jaylen", "Luka", "Nikola", "Josh", "Brandon", "Kyle",
         "Derrick", "Zion", "Tre'Vion", "José", "Amon-Ra", "D'Andre", "Kenneth"]
LAST = ["Johnson", "Williams", "Brown", "Davis", "Miller", "Wilson", "Moore", "Taylor",
        "Thomas", "Jackson", "White", "Harris", "Martin", "Thompson", "Garcia", "Robinson",
        "Walker", "Young", "Allen", "King", "St. Brown", "Pérez", "O'Neal", "Smith Jr."]


def round_american(price: np.ndarray) -> np.ndarray:
    """Round American prices as books print them: to 5 cents, never inside (-100, +100)."""
    p = np.round(price / 5.0) * 5.0
    return np.where((p > -100) & (p < 100), np.where(p >= 0, 100.0, -100.0), p)


def prob_to_american(p: np.ndarray) -> np.ndarray:
    """American price of an implied probability (vig included)."""
    p = np.clip(p, 0.01, 0.99)
    return np.where(p >= 0.5, -100.0 * p / (1.0 - p), 100.0 * (1.0 - p) / p)


@dataclass(slots=True)
class _GameBook:
    game: Game
    frame: pd.DataFrame          # one row per (player-market, book) with quote state
    mu: np.ndarray               # true mean per player-market
    sd: np.ndarray
    pending: list[tuple[int, int, float]]   # (book row index, polls to wait, new view)
    step: int = 0


class MockDataProvider(BaseProvider):
    """Simulated market (see module docstring)."""

    name = "mock"

    def __init__(self, leagues: tuple[str, ...] = ("nfl", "nba"), *, n_games: int = 12,
                 seed: int = 7, books: tuple[str, ...] = MOCK_BOOKS,
                 markets: dict[str, tuple[str, ...]] | None = None,
                 now: pd.Timestamp | None = None, steam_rate: float = 0.02,
                 suspend_rate: float = 0.01, game_markets: bool = True):
        super().__init__(rate_per_second=1000.0)
        self.leagues = tuple(leagues)
        self.seed = seed
        self.books = tuple(dict.fromkeys(books))
        self.markets = markets or {}
        self.steam_rate = steam_rate
        self.suspend_rate = suspend_rate
        self.game_markets = game_markets
        wall = pd.Timestamp.now(tz="UTC")
        self._anchor = (now or wall).floor("min")
        # A given ``now`` sets the simulated clock; it then runs at wall speed from there.
        self._clock_offset = (now - wall) if now is not None else pd.Timedelta(0)
        self._games: dict[str, _GameBook] = {}
        self._names: set[str] = set()
        self._build(n_games)

    @classmethod
    def from_settings(cls, settings) -> MockDataProvider:  # noqa: ANN001
        """Build from ``propsage.config.Settings``."""
        books = tuple(dict.fromkeys([*settings.book_keys, *MOCK_BOOKS]))[: max(5, len(settings.book_keys))]
        markets = {lg: settings.markets_for(lg) for lg in settings.leagues}
        return cls(tuple(settings.leagues), n_games=settings.mock_games, seed=settings.mock_seed,
                   books=books, markets=markets)

    # -- clock -------------------------------------------------------------------------------
    def now(self) -> pd.Timestamp:
        """Wall clock (plus any offset set with ``advance``)."""
        return pd.Timestamp.now(tz="UTC") + self._clock_offset

    def advance(self, delta: pd.Timedelta) -> None:
        """Move the simulated clock forward (tests, demos)."""
        self._clock_offset += delta

    # -- build -------------------------------------------------------------------------------
    def _rng(self, *key: object) -> np.random.Generator:
        digest = hashlib.blake2b(repr((self.seed, *key)).encode(), digest_size=8).digest()
        return np.random.default_rng(int.from_bytes(digest, "little"))

    def _build(self, n_games: int) -> None:
        rng = self._rng("schedule")
        leagues = [lg for lg in self.leagues if lg in TEAMS] or ["nfl"]
        for i in range(n_games):
            league = leagues[i % len(leagues)]
            teams = rng.choice(TEAMS[league], size=2, replace=False)
            # A third already under way, the rest spread over the next hours.
            offset_h = float(rng.uniform(-GAME_LENGTH[league] * 0.8, -0.1)) if i % 3 == 0 \
                else float(rng.uniform(0.25, 8.0))
            start = (self._anchor + pd.Timedelta(hours=offset_h)).floor("5min")
            gid = hashlib.blake2b(f"{self.seed}-{league}-{i}".encode(), digest_size=6).hexdigest()
            game = Game(id=gid, league=league, start_time=start.to_pydatetime(),
                        home_team=str(teams[0]), away_team=str(teams[1]),
                        sport_key=LEAGUE_SPORT_KEYS[league], provider=self.name)
            self._games[gid] = self._build_book(game)

    def _build_book(self, game: Game) -> _GameBook:
        rng = self._rng("game", game.id)
        league = game.league
        allowed = set(self.markets.get(league, ())) or None
        n_players = int(rng.integers(15, 26))
        mix = POSITION_MIX[league].split()
        rows, mus, sds = [], [], []
        used = self._names  # unique across games: a player_id is one person everywhere
        for j in range(n_players):
            pos = mix[j % len(mix)]
            team = game.home_team if j % 2 == 0 else game.away_team
            for attempt in range(10_000):
                name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
                if attempt > 20:  # the plain pool is used up: add a middle name
                    name = f"{rng.choice(FIRST)} {rng.choice(FIRST)} {rng.choice(LAST)}"
                if name not in used:
                    used.add(name)
                    break
            star = float(rng.beta(2, 3))
            for market in POSITION_MARKETS[league][pos]:
                if allowed is not None and market not in allowed:
                    continue
                lo, hi, cv, floor = MARKET_SHAPES[market]
                mu = lo + (hi - lo) * star
                mus.append(mu)
                sds.append(max(cv * mu, floor))
                rows.append((name, team, pos, market))
        if self.game_markets and (allowed is None or allowed & set(GAME_MARKETS)):
            total = {"nfl": 45.0, "cfb": 52.0, "nba": 226.0, "mlb": 8.5}[league]
            spread_sd = {"nfl": 13.5, "cfb": 15.0, "nba": 12.0, "mlb": 3.0}[league]
            home_edge = float(rng.normal(0, spread_sd * 0.4))
            for market in GAME_MARKETS:
                if allowed is not None and market not in allowed:
                    continue
                mus.append(total + float(rng.normal(0, 4)) if market == "totals" else home_edge)
                sds.append(spread_sd)
                rows.append(("", "", "", market))
        pm = pd.DataFrame(rows, columns=["player_name", "team", "position", "market"])
        nb = len(self.books)
        frame = pm.loc[pm.index.repeat(nb)].reset_index().rename(columns={"index": "pm"})
        frame["book"] = np.tile(np.array(self.books, dtype=object), len(pm))
        frame["player_id"] = frame["player_name"].map(normalize_player_id).astype(object)
        book_rng = self._rng("books", game.id)
        hold = book_rng.uniform(0.04, 0.08, size=nb)
        shade = book_rng.normal(0, 0.04, size=nb)
        frame["hold"] = np.tile(hold, len(pm))
        frame["shade"] = np.tile(shade, len(pm))
        mu = np.array(mus)
        sd = np.array(sds)
        frame["view"] = mu[frame["pm"]] + frame["shade"] * sd[frame["pm"]]
        frame["line"] = np.nan
        frame["suspended_until"] = -1
        gb = _GameBook(game=game, frame=frame, mu=mu, sd=sd, pending=[])
        self._requote(gb, np.ones(len(frame), dtype=bool))
        return gb

    # -- dynamics ----------------------------------------------------------------------------
    def _requote(self, gb: _GameBook, rows: np.ndarray) -> None:
        """Re-set line and prices of the given book rows from each book's current view."""
        f = gb.frame
        pm = f["pm"].to_numpy()
        market = f["market"].to_numpy()
        view = f["view"].to_numpy()
        sd = gb.sd[pm]
        line = np.floor(view) + 0.5                       # half points, like real books
        is_h2h = market == "h2h"
        is_spread = market == "spreads"
        is_td = market == "player_anytime_td"
        line = np.where(is_spread, -(np.round(view * 2) / 2) + 0.0, line)
        line = np.where(is_spread & (line == np.round(line)), line - 0.5, line)
        line = np.where(is_h2h, 0.0, line)
        line = np.where(is_td, np.nan, line)
        # P(home covers / over): spreads home point -x means home must win by more than x.
        z = np.where(is_spread | is_h2h, (view + line) / sd, (view - line) / sd)
        p_over = np.clip(ndtr(z), 0.03, 0.97)
        p_td = np.clip(view, 0.02, 0.95)
        p_over = np.where(is_td, p_td, p_over)
        hold = f["hold"].to_numpy()
        over = round_american(prob_to_american(p_over * (1 + hold)))
        under = round_american(prob_to_american((1 - p_over) * (1 + hold)))
        under = np.where(is_td, np.nan, under)
        f.loc[rows, "line"] = line[rows]
        f.loc[rows, "over_price"] = over[rows]
        f.loc[rows, "under_price"] = under[rows]

    def _step(self, gb: _GameBook, live: bool) -> None:
        rng = self._rng("step", gb.game.id, gb.step)
        gb.step += 1
        f = gb.frame
        n_pm = len(gb.mu)
        drift = rng.normal(0, 0.02 if not live else 0.05, size=n_pm) * gb.sd
        gb.mu = gb.mu + drift
        moved = np.zeros(len(f), dtype=bool)
        # Each book refreshes its view of some markets each poll (books lag each other).
        refresh = rng.random(len(f)) < (0.08 if not live else 0.2)
        view = gb.mu[f["pm"].to_numpy()] + f["shade"].to_numpy() * gb.sd[f["pm"].to_numpy()]
        f.loc[refresh, "view"] = view[refresh]
        moved |= refresh
        # Steam: a jolt to one player-market; a leader moves now, the rest within 1-4 polls.
        if rng.random() < self.steam_rate * (3 if live else 1):
            k = int(rng.integers(n_pm))
            jolt = float(rng.choice([-1, 1]) * rng.uniform(0.6, 1.2) * gb.sd[k])
            gb.mu[k] += jolt
            idx = np.flatnonzero(f["pm"].to_numpy() == k)
            order = rng.permutation(idx)
            for rank, row in enumerate(order):
                target = gb.mu[k] + f.at[row, "shade"] * gb.sd[k]
                if rank == 0:
                    f.at[row, "view"] = target
                    moved[row] = True
                else:
                    gb.pending.append((int(row), int(rng.integers(1, 5)), float(target)))
        still = []
        for row, wait, target in gb.pending:
            if wait <= 1:
                f.at[row, "view"] = target
                moved[row] = True
            else:
                still.append((row, wait - 1, target))
        gb.pending = still
        self._requote(gb, moved)
        if live and rng.random() < self.suspend_rate * 10:
            k = int(rng.integers(n_pm))
            f.loc[f["pm"] == k, "suspended_until"] = gb.step + int(rng.integers(1, 4))

    def _status(self, gb: _GameBook, now: pd.Timestamp) -> None:
        g = gb.game
        start = pd.Timestamp(g.start_time)
        hours = (now - start).total_seconds() / 3600.0
        length = GAME_LENGTH[g.league]
        if hours < 0:
            g.status = GameStatus.SCHEDULED
            return
        rng = self._rng("score", g.id)
        frac = min(hours / length, 1.0)
        per_point = {"nfl": 23.0, "cfb": 28.0, "nba": 112.0, "mlb": 4.5}[g.league]
        # Scores grow with game time along a seeded path (same score for the same moment).
        path = rng.poisson(per_point / 60.0, size=(2, 61)).cumsum(axis=1)
        i = int(frac * 60)
        g.home_score, g.away_score = int(path[0, i]), int(path[1, i])
        periods = PERIODS[g.league]
        g.period = min(int(frac * periods) + 1, periods)
        if frac >= 1.0:
            g.status = GameStatus.FINAL
            g.clock = "Final"
            return
        g.status = GameStatus.LIVE
        per_len = 60.0 / periods if g.league != "mlb" else 0
        if per_len:
            left = per_len * (1 - (frac * periods) % 1.0)
            g.clock = f"{int(left):02d}:{int((left % 1) * 60):02d}"
        else:
            g.clock = "Top" if (frac * periods * 2) % 2 < 1 else "Bot"

    # -- provider API ------------------------------------------------------------------------
    def get_games(self) -> list[Game]:
        """Every simulated game with its status at the provider's clock."""
        now = self.now()
        out = []
        for gb in self._games.values():
            self._status(gb, now)
            out.append(gb.game)
        return out

    def get_offers(self, game_id: str) -> pd.DataFrame:
        """Advance the game's market one poll and return its quotes."""
        gb = self._games[game_id]
        now = self.now()
        self._status(gb, now)
        if gb.game.status == GameStatus.FINAL:
            from propsage.domain import empty_offers

            return empty_offers()
        live = gb.game.status == GameStatus.LIVE
        self._step(gb, live)
        f = gb.frame
        suspended = f["suspended_until"].to_numpy() >= gb.step
        out = pd.DataFrame({
            "game_id": game_id, "league": gb.game.league,
            "player_name": f["player_name"].to_numpy(),
            "market": f["market"].to_numpy(), "book": f["book"].to_numpy(),
            "line": f["line"].to_numpy(dtype=float),
            "over_price": f["over_price"].to_numpy(dtype=float),
            "under_price": f["under_price"].to_numpy(dtype=float),
            "is_live": live, "is_suspended": suspended,
            "book_last_update": now, "fetched_at": now,
        })
        out["player_id"] = f["player_id"].to_numpy()
        return as_offer_frame(out)

    def history(self, games_back: int = 16) -> pd.DataFrame:
        """Past box-score results of the simulated players (a ``results`` frame).

        Drawn from each player's true distribution at the start of the simulation, so the
        pricing model's priors know the players about as well as a real stats feed would.
        """
        out = []
        combo = "player_points_rebounds_assists"
        parts = ("player_points", "player_rebounds", "player_assists")
        for gid, gb in self._games.items():
            rng = self._rng("history", gid)
            f = gb.frame.drop_duplicates("pm")
            step = 7 if gb.game.league in ("nfl", "cfb") else 2
            dates = [(self._anchor - pd.Timedelta(days=step * (k + 1))).date()
                     for k in range(games_back)]
            by_player: dict[str, dict[str, np.ndarray]] = {}
            for row in f.itertuples():
                if not row.player_name or row.market == combo:
                    continue
                mu, sd = float(gb.mu[row.pm]), float(gb.sd[row.pm])
                if row.market == "player_anytime_td":
                    vals = (rng.random(games_back) < mu).astype(float)
                elif row.market.endswith("_yds"):
                    k = (mu / sd) ** 2
                    vals = np.round(rng.gamma(k, mu / k, games_back))
                else:  # counts: negative binomial with this mean and variance (Poisson if tighter)
                    var = max(sd * sd, mu * 1.01)
                    r = mu * mu / (var - mu)
                    vals = rng.negative_binomial(r, r / (r + mu), games_back).astype(float)
                by_player.setdefault(row.player_name, {})[row.market] = vals
                out.append((row.player_name, row.team, row.position, row.market, vals, dates,
                            gb.game.league))
            for name, stats in by_player.items():
                if all(m in stats for m in parts):
                    team = f.loc[f["player_name"] == name, "team"].iloc[0]
                    out.append((name, team, "", combo, sum(stats[m] for m in parts), dates,
                                gb.game.league))
        rows = [
            {"game_id": f"hist-{league}-{d}-{team}", "league": league, "game_date": d,
             "player_id": normalize_player_id(name), "player_name": name, "team": team,
             "position": pos, "market": market, "value": float(v), "source": "mock-history"}
            for name, team, pos, market, vals, dates, league in out
            for v, d in zip(vals, dates, strict=True)
        ]
        return pd.DataFrame(rows)

    def team_of(self, game_id: str) -> dict[str, str]:
        """player_id -> team for one game (the dashboard shows it)."""
        f = self._games[game_id].frame
        names = f.drop_duplicates("player_name")
        return {normalize_player_id(n): t for n, t in zip(names["player_name"], names["team"],
                                                         strict=True) if n}
