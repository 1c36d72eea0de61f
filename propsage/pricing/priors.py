"""Priors from a player's history: recency-weighted moments shrunk toward his group.

For each (player_id, market) in a ``results`` frame (columns player_id, market, value,
game_date, league, position; see ``propsage.loaders``), using only games whose game_date is
strictly before the calendar date of ``as_of`` when given (pass the US date of the slate:
a prop quoted on date D is priced from games up to D - 1):

1. Recency weights w = 0.5 ** (games_ago / half_life); n_eff = (sum w)^2 / sum w^2.
2. Weighted mean m and unbiased weighted variance v (Bessel-style, n_eff / (n_eff - 1)).
   Hurdle markets (rush / receiving yards) first split off the share of games at <= 0, z,
   and take m, v of the positive games.
3. Shrinkage toward the group (league, market, position; (league, market) when the position
   is unknown or the group is thin; the group mean weights each player's mean by his n_eff),
   with ``prior_games`` pseudo-games:
   mean = (n_eff m + k g) / (n_eff + k), same for z; the variance is shrunk toward the
   variance the market's default shape gives at that mean, with ``2 k`` pseudo-games.
4. Predictive variance = variance + variance / (n_eff + k) (the mean's own uncertainty).

Returns a DataFrame indexed by (player_id, market) with family, mean, var, zero_prob, shape,
n, n_eff, weight (= n_eff / (n_eff + k), the share of the player's own data), raw_mean,
group_mean, league, position, last_date.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from propsage.pricing import distributions as dist
from propsage.pricing.markets import FAMILY_CODE, MarketTable

PRIOR_COLUMNS = ["family", "mean", "var", "zero_prob", "shape", "n", "n_eff", "weight",
                 "raw_mean", "group_mean", "league", "position", "last_date"]


@dataclass(frozen=True, slots=True)
class PriorSettings:
    """Knobs of ``priors_from_results``."""

    half_life: float = 10.0        # games; a game 10 games ago weighs half the latest
    prior_games: float = 5.0       # pseudo-games of the group mean in the shrinkage
    min_group_players: int = 8     # thinner (league, market, position) groups use (league, market)


def empty_priors() -> pd.DataFrame:
    """An empty priors frame with the right index."""
    idx = pd.MultiIndex.from_arrays([[], []], names=["player_id", "market"])
    return pd.DataFrame({c: [] for c in PRIOR_COLUMNS}, index=idx)


def _day(as_of: object) -> pd.Timestamp:
    """Midnight of ``as_of``'s calendar date (its own time zone, if any, dropped)."""
    ts = pd.Timestamp(as_of)
    return (ts.tz_localize(None) if ts.tzinfo else ts).normalize()


def _weighted(frame: pd.DataFrame, by: list[str], x: str, w: str) -> pd.DataFrame:
    f = pd.DataFrame({k: frame[k] for k in by})
    xv = frame[x].to_numpy(float)
    wv = frame[w].to_numpy(float)
    f["w"], f["w2"], f["wx"], f["wxx"] = wv, wv**2, wv * xv, wv * xv**2
    s = f.groupby(by, sort=False, observed=True).sum()
    mean = s["wx"] / s["w"]
    n_eff = s["w"] ** 2 / s["w2"]
    var = (s["wxx"] / s["w"] - mean**2).clip(lower=0.0)
    var = var * n_eff / (n_eff - 1).where(n_eff > 1.0001)
    return pd.DataFrame({"m": mean, "v": var, "n_eff": n_eff, "sw": s["w"]})


def priors_from_results(results: pd.DataFrame, *, as_of: object = None,
                        settings: PriorSettings | None = None,
                        markets: MarketTable | None = None) -> pd.DataFrame:
    """Recency-weighted, shrunk priors per (player_id, market) (see module docstring)."""
    settings = settings or PriorSettings()
    markets = markets or MarketTable()
    r = results[results["player_id"].astype(str) != ""]
    if as_of is not None and len(r):
        r = r[pd.to_datetime(r["game_date"]) < _day(as_of)]
    r = r.dropna(subset=["value"])
    if r.empty:
        return empty_priors()
    keys = ["player_id", "market"]
    cols = {"player_id": r["player_id"].astype(str), "market": r["market"].astype(str),
            "value": r["value"].astype(float),
            "game_date": pd.to_datetime(r["game_date"]),
            "league": r["league"].astype(str) if "league" in r else "",
            "position": r["position"].fillna("").astype(str) if "position" in r else ""}
    r = pd.DataFrame(cols).sort_values(["player_id", "market", "game_date"],
                                       ascending=[True, True, False], kind="stable")
    r["ago"] = r.groupby(keys, sort=False).cumcount()
    r["w"] = 0.5 ** (r["ago"] / settings.half_life)
    uniq = r["market"].unique()
    spec = {m: markets.spec(m) for m in uniq}
    fam_name = {m: ("bernoulli" if s.family == "bernoulli" else s.closed_family)
                for m, s in spec.items()}
    hurdle = r["market"].map({m: s.hurdle for m, s in spec.items()}).astype(bool)
    r["zero"] = (hurdle & (r["value"] <= 0)).astype(float)
    pos = r[~(hurdle & (r["value"] <= 0))]

    own = _weighted(pos, keys, "value", "w")
    zero = _weighted(r, keys, "zero", "w")
    last = r.groupby(keys, sort=False).agg(n=("value", "size"), last_date=("game_date", "max"),
                                           league=("league", "first"),
                                           position=("position", "first"))
    out = last.join(zero[["m", "n_eff"]].rename(columns={"m": "z"})).join(
        own[["m", "v"]], how="left")

    # Group means: players' means weighted by their effective games, so the target is the
    # typical player-game (regulars, who get props) rather than the typical roster spot.
    per_player = out.reset_index()
    per_player["wm"] = per_player["m"] * per_player["n_eff"]
    per_player["wz"] = per_player["z"] * per_player["n_eff"]
    per_player["wn"] = per_player["n_eff"].where(per_player["m"].notna(), 0.0)
    g3 = per_player.groupby(["league", "market", "position"]).agg(
        wm=("wm", "sum"), wz=("wz", "sum"), wn=("wn", "sum"), sn=("n_eff", "sum"),
        gn=("player_id", "size"))
    g3 = pd.DataFrame({"gm": g3["wm"] / g3["wn"], "gz": g3["wz"] / g3["sn"], "gn": g3["gn"]})
    g2 = per_player.groupby(["league", "market"]).agg(
        wm=("wm", "sum"), wz=("wz", "sum"), wn=("wn", "sum"), sn=("n_eff", "sum"))
    g2 = pd.DataFrame({"gm2": g2["wm"] / g2["wn"], "gz2": g2["wz"] / g2["sn"]})
    per_player = per_player.join(g3, on=["league", "market", "position"]).join(
        g2, on=["league", "market"])
    thin = (per_player["gn"] < settings.min_group_players) | (per_player["position"] == "")
    gm = np.where(thin, per_player["gm2"], per_player["gm"])
    gz = np.where(thin, per_player["gz2"], per_player["gz"])
    m_own = per_player["m"].to_numpy(float)
    gm = np.where(np.isnan(gm), m_own, gm)
    m_own = np.where(np.isnan(m_own), gm, m_own)

    k = settings.prior_games
    n_eff = per_player["n_eff"].to_numpy(float)
    weight = n_eff / (n_eff + k)
    mean = weight * m_own + (1 - weight) * gm
    z = weight * per_player["z"].to_numpy(float) + (1 - weight) * gz
    fam = per_player["market"].map(fam_name)
    code = fam.map(FAMILY_CODE).to_numpy(np.int8)
    default_shape = per_player["market"].map({m: s.shape for m, s in spec.items()}).to_numpy(float)
    var0 = dist.var_from_shape(code, mean, default_shape)
    var_own = per_player["v"].to_numpy(float)
    dof = np.maximum(n_eff - 1, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.where(np.isnan(var_own) | (dof + 2 * k <= 0), var0,
                       (dof * np.nan_to_num(var_own) + 2 * k * var0) / (dof + 2 * k))
    var = var * (1 + 1 / (n_eff + k))
    is_b = code == dist.BERNOULLI
    mean = np.where(is_b, np.clip(mean, 1e-4, 1 - 1e-4), np.maximum(mean, 1e-3))
    var = np.where(is_b, mean * (1 - mean), np.maximum(var, 1e-6))
    z = np.where(is_b | ~per_player["market"].map({m: s.hurdle for m, s in spec.items()})
                 .astype(bool).to_numpy(), 0.0, z)
    res = pd.DataFrame({
        "player_id": per_player["player_id"], "market": per_player["market"],
        "family": fam.to_numpy(), "mean": mean, "var": var, "zero_prob": z,
        "shape": dist.shape_from_var(code, mean, var),
        "n": per_player["n"].to_numpy(int), "n_eff": n_eff, "weight": weight,
        "raw_mean": per_player["m"].to_numpy(float), "group_mean": gm,
        "league": per_player["league"], "position": per_player["position"],
        "last_date": per_player["last_date"],
    })
    return res.set_index(["player_id", "market"]).sort_index()
