"""What each market's outcome looks like: its distribution family, default shape, components.

A *family* is one of ``normal``, ``gamma``, ``negbin``, ``poisson``, ``bernoulli`` (closed
forms) or ``combo`` (a sum of correlated components, simulated). The default *shape* is the
parameter held fixed when a market price is inverted and when a player has no history:
normal -> standard deviation, gamma -> shape k (CV = 1/sqrt(k)), negbin -> size r
(var = mean + mean^2 / r), poisson/bernoulli -> unused. Defaults were read off real data
(NBA 2024-25 box scores of players with >= 20 minutes and >= 30 games; NFL 2018-22 weekly
stats of players with >= 16 games; see docs/pricing.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """How one market is modelled."""

    family: str
    shape: float = float("nan")
    components: tuple[str, ...] = ()
    hurdle: bool = False          # allow a point mass at zero (priors estimate its weight)
    closed: str = ""              # combos: the closed family used for the market's own quotes

    @property
    def closed_family(self) -> str:
        """The closed-form family used to read this market's quotes."""
        return self.closed or self.family


FAMILIES: tuple[str, ...] = ("normal", "gamma", "negbin", "poisson", "bernoulli")
FAMILY_CODE: dict[str, int] = {f: i for i, f in enumerate(FAMILIES)}

MARKETS: dict[str, MarketSpec] = {
    # NBA
    "player_points": MarketSpec("negbin", 8.0),
    "player_rebounds": MarketSpec("negbin", 19.0),
    "player_assists": MarketSpec("negbin", 14.0),
    "player_threes": MarketSpec("negbin", 12.0),
    "player_blocks": MarketSpec("poisson"),
    "player_steals": MarketSpec("poisson"),
    "player_turnovers": MarketSpec("negbin", 15.0),
    "player_points_rebounds_assists": MarketSpec(
        "combo", 10.0, ("player_points", "player_rebounds", "player_assists"), closed="negbin"),
    "player_points_rebounds": MarketSpec(
        "combo", 10.0, ("player_points", "player_rebounds"), closed="negbin"),
    "player_points_assists": MarketSpec(
        "combo", 10.0, ("player_points", "player_assists"), closed="negbin"),
    "player_rebounds_assists": MarketSpec(
        "combo", 15.0, ("player_rebounds", "player_assists"), closed="negbin"),
    "player_double_double": MarketSpec("bernoulli"),
    # NFL / NCAAF
    "player_pass_yds": MarketSpec("gamma", 8.0),
    "player_pass_tds": MarketSpec("negbin", 20.0),
    "player_pass_completions": MarketSpec("negbin", 30.0),
    "player_pass_attempts": MarketSpec("negbin", 40.0),
    "player_pass_interceptions": MarketSpec("poisson"),
    "player_rush_yds": MarketSpec("gamma", 1.8, hurdle=True),
    "player_rush_attempts": MarketSpec("negbin", 8.0),
    "player_rush_tds": MarketSpec("poisson"),
    "player_receptions": MarketSpec("negbin", 15.0),
    "player_reception_yds": MarketSpec("gamma", 1.9, hurdle=True),
    "player_reception_tds": MarketSpec("poisson"),
    "player_rush_reception_yds": MarketSpec(
        "combo", 2.2, ("player_rush_yds", "player_reception_yds"), closed="gamma"),
    "player_anytime_td": MarketSpec("bernoulli"),
    "player_1st_td": MarketSpec("bernoulli"),
    "player_last_td": MarketSpec("bernoulli"),
    # MLB
    "batter_hits": MarketSpec("poisson"),
    "batter_total_bases": MarketSpec("negbin", 3.0),
    "batter_home_runs": MarketSpec("poisson"),
    "batter_rbis": MarketSpec("negbin", 3.0),
    "batter_runs_scored": MarketSpec("poisson"),
    "pitcher_strikeouts": MarketSpec("negbin", 25.0),
    # Game level (line = total points / home point; normal around the market, sd per league)
    "totals": MarketSpec("normal"),
    "spreads": MarketSpec("normal"),
    "h2h": MarketSpec("bernoulli"),
}
UNKNOWN = MarketSpec("negbin", 10.0)

# Outcome sd of game totals and of the home margin, by league (normal model around the market).
GAME_SD: dict[str, dict[str, float]] = {
    "totals": {"nfl": 13.5, "cfb": 16.0, "nba": 18.0, "mlb": 4.4},
    "spreads": {"nfl": 13.5, "cfb": 15.0, "nba": 12.5, "mlb": 4.2},
}

# Latent (Gaussian copula) correlation of combo components, within player. NBA values are the
# within-player correlations of 2024-25 box-score deviations; rush/receiving yards from NFL RBs.
COMPONENT_CORRELATION: dict[frozenset[str], float] = {
    frozenset({"player_points", "player_rebounds"}): 0.18,
    frozenset({"player_points", "player_assists"}): 0.08,
    frozenset({"player_rebounds", "player_assists"}): 0.14,
    frozenset({"player_rush_yds", "player_reception_yds"}): 0.10,
}


@dataclass(frozen=True, slots=True)
class MarketTable:
    """Market specs with overrides (a tuning knob: ``MarketTable(overrides={...})``)."""

    overrides: dict[str, MarketSpec] = field(default_factory=dict)

    def spec(self, market: str) -> MarketSpec:
        """The spec of a market key (``_alternate`` ladders share their main market's)."""
        base = market.removesuffix("_alternate")
        return self.overrides.get(base) or MARKETS.get(base) or UNKNOWN


def base_market(market: str) -> str:
    """The main market of an alternate ladder key (identity otherwise)."""
    return market.removesuffix("_alternate")


def correlation(components: tuple[str, ...],
                table: dict[frozenset[str], float] | None = None) -> list[list[float]]:
    """The components' correlation matrix (0 where no value is known)."""
    table = COMPONENT_CORRELATION if table is None else table
    n = len(components)
    return [[1.0 if i == j else table.get(frozenset({components[i], components[j]}), 0.0)
             for j in range(n)] for i in range(n)]
