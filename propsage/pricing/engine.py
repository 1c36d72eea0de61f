"""Price a board of offers: one distribution per player-market, every book and line read off it.

Per player-market (game_id, player_id, market):

1. model: the player's prior (``priors_from_results``) adjusted by evidence; combos whose
   components all have priors are the copula sum of the (adjusted) components (Monte Carlo);
2. market: every two-sided, unsuspended quote de-vigged and inverted to an implied mean with the
   model's shape held fixed (market default shape without a prior); the consensus is their
   book-weighted mean;
3. fair: the means blended with the model weighted by confidence (``context``); the fair
   distribution keeps the model's shape (the market's without a model). Game markets and
   players without history are priced from the market alone; h2h is its consensus no-vig
   probability.

Each offer is then priced exactly from its player-market's fair distribution at its own line
(closed forms; simulated combos read their empirical pmf), so all books and alternate lines of
a player-market share one distribution and one simulation.

    price_offers(offers, priors=None, evidence=None, *, n_sims=10_000, seed=0,
                 kelly_fraction=0.25, movements=None, now=None, settings=None) -> DataFrame
    price_board(...) -> Board   (the priced offers plus each player-market's distribution:
                                 Board.over_under_push(keys, lines) at any line)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt
import pandas as pd

from propsage.odds import american_to_decimal
from propsage.pricing import distributions as dist
from propsage.pricing.context import ContextSettings, agreement, blend, confidence, recent_moves
from propsage.pricing.evidence import Evidence, EvidenceBounds, evidence_deltas
from propsage.pricing.market import (
    PM_KEYS,
    consensus,
    default_shapes,
    effective_line,
    implied_mean,
    no_vig,
    valid_american,
)
from propsage.pricing.markets import (
    COMPONENT_CORRELATION,
    FAMILIES,
    FAMILY_CODE,
    MarketTable,
    base_market,
    correlation,
)
from propsage.pricing.montecarlo import mc_standard_error, simulate_sum
from propsage.pricing.value import edge, expected_value, kelly

Array = npt.NDArray[np.float64]
PRICE_COLUMNS = [
    "implied_prob", "fair_line", "fair_over_prob", "fair_under_prob", "push_prob", "p05", "p95",
    "edge_over", "edge_under", "ev_over", "ev_under", "kelly_over", "kelly_under", "edge",
    "best_side", "confidence_score", "mc_se", "model",
    # extras: the best side's EV and Kelly (the store's ev / kelly), where the fair view came from
    "ev", "kelly", "fair_source", "model_weight", "model_mean", "market_mean", "fair_mean",
]
QUANTILES = (0.5, 0.05, 0.95)


@dataclass(frozen=True)
class PricingSettings:
    """Everything ``price_offers`` can be tuned with."""

    n_sims: int = 10_000
    seed: int = 0
    kelly_fraction: float = 0.25
    devig_method: str = "multiplicative"
    markets: MarketTable = field(default_factory=MarketTable)
    context: ContextSettings = field(default_factory=ContextSettings)
    evidence_bounds: EvidenceBounds = field(default_factory=EvidenceBounds)
    correlations: Mapping[frozenset[str], float] = field(
        default_factory=lambda: dict(COMPONENT_CORRELATION))
    book_weights: Mapping[str, float] | None = None
    chunk_rows: int = 64


@dataclass(slots=True)
class _Sim:
    """One simulated group of player-markets (same combo market)."""

    pms: npt.NDArray[np.int64]
    grid: dist.Grid


@dataclass
class Board:
    """A priced board: the offers and each player-market's fair distribution."""

    offers: pd.DataFrame
    player_markets: pd.DataFrame          # indexed by (game_id, player_id, market)
    sims: list[_Sim]
    n_sims: int

    def over_under_push(self, keys: pd.DataFrame, lines: npt.ArrayLike
                        ) -> tuple[Array, Array, Array]:
        """Fair (P(over), P(under), P(push)) of each (game_id, player_id, market) row of ``keys``
        at the line in the same position (offer-line convention: spreads = home point)."""
        idx = pd.MultiIndex.from_frame(keys[PM_KEYS].astype(str))
        pm = self.player_markets.index.get_indexer(idx)
        lines = np.broadcast_to(np.asarray(lines, dtype=float), pm.shape)
        return _probs(self.player_markets, self.sims, pm, lines,
                      keys["market"].astype(str).to_numpy(object))


def _probs(pms: pd.DataFrame, sims: list[_Sim], pm: npt.NDArray[np.int64], lines: Array,
           market: np.ndarray) -> tuple[Array, Array, Array]:
    """Fair probabilities of player-market rows ``pm`` (-1: unknown) at offer lines."""
    n = len(pm)
    over, under, push = (np.full(n, np.nan) for _ in range(3))
    known = pm >= 0
    code = np.full(n, -1, dtype=np.int8)
    code[known] = pms["code"].to_numpy()[pm[known]]
    line = effective_line(market, lines)
    line = np.where(code == dist.BERNOULLI, 0.5, line)
    closed = known & ~pms["simulated"].to_numpy()[np.maximum(pm, 0)]
    if closed.any():
        p = pm[closed]
        over[closed], under[closed], push[closed] = dist.over_under_push_arrays(
            code[closed], pms["fair_mean"].to_numpy()[p], pms["fair_var"].to_numpy()[p],
            pms["zero_prob"].to_numpy()[p], line[closed])
    for sim in sims:
        pos = np.full(len(pms), -1)
        pos[sim.pms] = np.arange(len(sim.pms))
        rows = np.where(known, pos[np.maximum(pm, 0)], -1)
        hit = rows >= 0
        if hit.any():
            over[hit], under[hit], push[hit] = sim.grid.over_under_push(line[hit], rows[hit])
    return over, under, push


def _lookup(table: pd.DataFrame | None, player: np.ndarray, market: np.ndarray,
            cols: Iterable[str]) -> dict[str, Array]:
    """Columns of a (player_id, market)-indexed table for each (player, market) pair."""
    cols = list(cols)
    n = len(player)
    if table is None or table.empty or n == 0:
        return {c: np.full(n, np.nan) for c in cols}
    idx = table.index.get_indexer(pd.MultiIndex.from_arrays([player, market]))
    out = {}
    for c in cols:
        v = table[c].to_numpy(float) if c in table else np.full(len(table), np.nan)
        out[c] = np.where(idx >= 0, v[np.maximum(idx, 0)], np.nan)
    return out


def price_board(offers: pd.DataFrame, priors: pd.DataFrame | None = None,
                evidence: Iterable[Evidence] | pd.DataFrame | None = None, *,
                movements: pd.DataFrame | None = None, now: pd.Timestamp | None = None,
                settings: PricingSettings | None = None) -> Board:
    """Price every offer of the board (see module docstring); returns a ``Board``."""
    s = settings or PricingSettings()
    out = offers.copy()
    n = len(out)
    if n == 0:
        for c in PRICE_COLUMNS:
            out[c] = pd.Series(dtype="string" if c in ("best_side", "model", "fair_source")
                               else float)
        empty = pd.DataFrame(index=pd.MultiIndex.from_arrays([[], [], []], names=PM_KEYS))
        return Board(out, empty, [], s.n_sims)

    # --- player-markets ---------------------------------------------------------------------
    p_over_nv, p_under_nv = no_vig(out, s.devig_method)
    keys = out[PM_KEYS].astype(str)
    pm, uniq = pd.MultiIndex.from_frame(keys).factorize()
    n_pm = len(uniq)
    first = np.unique(pm, return_index=True)[1]
    pid = keys["player_id"].to_numpy(object)[first]
    mkt = keys["market"].to_numpy(object)[first]
    base = np.array([base_market(m) for m in mkt], dtype=object)
    league = out["league"].astype(str).to_numpy(object)[first]
    code, shape = default_shapes(mkt, league, s.markets)
    is_player = pid != ""

    # --- model: prior + evidence ------------------------------------------------------------
    cols = ("mean", "var", "zero_prob", "n_eff")
    pr = _lookup(priors, pid, base, cols)
    has_prior = is_player & ~np.isnan(pr["mean"])
    deltas = evidence_deltas(pid, base, evidence, s.evidence_bounds)
    model_mean, model_var = np.full(n_pm, np.nan), np.full(n_pm, np.nan)
    mm, mv = (np.where(has_prior, a, np.nan) for a in (pr["mean"], pr["var"]))
    adj_mean, adj_var = mm * (1 + deltas[0]), mv * (1 + deltas[1]) + mm**2 * deltas[2]
    model_mean[has_prior], model_var[has_prior] = adj_mean[has_prior], adj_var[has_prior]
    zero = np.where(has_prior, np.nan_to_num(pr["zero_prob"]), 0.0)
    n_eff = np.where(has_prior, pr["n_eff"], 0.0)
    simulated = np.zeros(n_pm, dtype=bool)
    combos: dict[str, dict] = {}
    for m in sorted(set(base[is_player])):
        spec = s.markets.spec(m)
        if spec.family != "combo":
            continue
        rows = np.flatnonzero(is_player & (base == m))
        comp = []
        for c in spec.components:
            cp = _lookup(priors, pid[rows], np.full(len(rows), c, dtype=object), cols)
            cd = evidence_deltas(pid[rows], np.full(len(rows), c, dtype=object), evidence,
                                 s.evidence_bounds)
            cm = cp["mean"] * (1 + cd[0]) * (1 + deltas[0][rows])
            cv = cp["var"] * (1 + cd[1]) + cp["mean"] ** 2 * cd[2]
            comp.append((FAMILY_CODE[s.markets.spec(c).closed_family], cm, cv,
                         np.nan_to_num(cp["zero_prob"]), cp["n_eff"]))
        ok = np.all([~np.isnan(c[1]) for c in comp], axis=0)
        if not ok.any():
            continue
        rows = rows[ok]
        comp = [(cc, cm[ok], cv[ok], cz[ok], cn[ok]) for cc, cm, cv, cz, cn in comp]
        corr = np.array(correlation(spec.components, dict(s.correlations)))
        sds = np.array([np.sqrt(c[2]) for c in comp])
        total_mean = np.sum([c[1] for c in comp], axis=0)
        total_var = np.einsum("ir,ij,jr->r", sds, corr, sds)
        simulated[rows] = True
        model_mean[rows], model_var[rows] = total_mean, total_var
        zero[rows] = 0.0
        own_n = np.where(has_prior[rows], n_eff[rows], np.min([c[4] for c in comp], axis=0))
        n_eff[rows] = own_n
        combos[m] = {"rows": rows, "comp": comp, "corr": corr}
    has_model = has_prior | simulated
    with np.errstate(invalid="ignore"):
        model_shape = dist.shape_from_var(code, model_mean, model_var)
    shape = np.where(has_model & (code != dist.POISSON) & (code != dist.BERNOULLI),
                     model_shape, shape)

    # --- market: per-quote inversion, consensus ---------------------------------------------
    line_raw = out["line"].to_numpy(float, na_value=np.nan)
    market_all = keys["market"].to_numpy(object)
    line_eff = effective_line(market_all, line_raw)
    q_code = code[pm]
    line_eff = np.where(q_code == dist.BERNOULLI, 0.5, line_eff)
    use = ~np.isnan(p_over_nv) & ~out["is_suspended"].to_numpy(bool)
    q_mean = np.full(n, np.nan)
    q_mean[use] = implied_mean(q_code[use], shape[pm][use], zero[pm][use], line_eff[use],
                               p_over_nv[use])
    weights = np.ones(n)
    if s.book_weights:
        weights = out["book"].map(dict(s.book_weights)).fillna(1.0).to_numpy(float)
    market_mean, mean_sd, _ = consensus(pm, n_pm, q_mean, weights)
    n_quotes = np.bincount(pm, ~np.isnan(q_mean), minlength=n_pm)

    # --- context and blend ------------------------------------------------------------------
    ref_mean = np.where(np.isnan(market_mean), model_mean, market_mean)
    outcome_sd = np.sqrt(dist.var_from_shape(code, ref_mean, shape))
    agree = agreement(mean_sd, outcome_sd, n_quotes, s.context)
    moves = recent_moves(pd.DataFrame({"game_id": uniq.get_level_values(0),
                                       "player_id": pid, "market": mkt}), movements, now,
                         s.context)
    conf = confidence(n_eff, agree, moves, s.context)
    fair_mean, weight = blend(model_mean, market_mean, conf, s.context)
    fair_mean = np.where(code == dist.BERNOULLI, np.clip(fair_mean, 1e-6, 1 - 1e-6), fair_mean)
    fair_var = dist.var_from_shape(code, fair_mean, shape)
    source = np.where(np.isnan(market_mean), "prior",
                      np.where(~has_model, "market", "blend")).astype(object)
    source = np.where(np.isnan(fair_mean), "none", source)

    # --- simulate combos at the fair means --------------------------------------------------
    rng = np.random.default_rng(s.seed)
    sims: list[_Sim] = []
    for c in combos.values():
        rows = c["rows"]
        scale = fair_mean[rows] / model_mean[rows]
        grids = []
        for cc, cm, cv, cz, _ in c["comp"]:
            ccode = np.full(len(rows), cc, dtype=np.int8)
            cshape = dist.shape_from_var(ccode, cm, cv)
            new_mean = cm * scale
            new_var = np.where(np.isnan(cshape), new_mean, dist.var_from_shape(
                ccode, new_mean, cshape)) if cc != dist.NORMAL else cv
            grids.append(dist.count_grid(ccode, new_mean, new_var, cz))
        grid = simulate_sum(grids, c["corr"], n_sims=s.n_sims, seed=rng,
                            chunk_rows=s.chunk_rows)
        sims.append(_Sim(pms=rows, grid=grid))
        fair_var[rows] = np.nan

    # --- per player-market table and quantiles ----------------------------------------------
    is_pois = (code == dist.NEGBIN) & ~(fair_var > fair_mean * (1 + 1e-9))
    model_name = np.array(FAMILIES, dtype=object)[code]
    model_name = np.where(is_pois, "poisson", model_name)
    model_name = np.where(simulated, "mc_copula", model_name)
    model_name = np.where(base == "h2h", "market", model_name)
    pms = pd.DataFrame({
        "league": league, "code": code, "family": np.array(FAMILIES, dtype=object)[code],
        "model": model_name, "simulated": simulated, "fair_mean": fair_mean,
        "fair_var": fair_var, "zero_prob": zero, "shape": shape, "model_mean": model_mean,
        "market_mean": market_mean, "market_sd": mean_sd, "n_quotes": n_quotes,
        "n_eff": n_eff, "agreement": agree, "recent_moves": moves, "confidence": conf,
        "model_weight": weight, "source": source,
    }, index=uniq.set_names(PM_KEYS))
    qs = np.full((n_pm, len(QUANTILES)), np.nan)
    closed = ~simulated & ~np.isnan(fair_mean)
    if closed.any():
        qs[closed] = dist.quantiles({"family": code[closed], "mean": fair_mean[closed],
                                     "var": fair_var[closed], "zero_prob": zero[closed]},
                                    QUANTILES)
    for sim in sims:
        for j, q in enumerate(QUANTILES):
            qs[sim.pms, j] = sim.grid.quantile(q)
    spread = mkt == "spreads"
    qs[spread] = -qs[spread][:, [0, 2, 1]]       # home point = -margin; p05/p95 swap
    pms["fair_line"], pms["p05"], pms["p95"] = qs[:, 0], qs[:, 1], qs[:, 2]

    # --- per offer: probabilities at each (player-market, line) once ------------------------
    pair, pair_vals = pd.factorize(pm + 1j * np.nan_to_num(line_raw, nan=-1e9))
    pair_pm = pair_vals.real.astype(np.int64)
    pair_line = pair_vals.imag
    pair_line = np.where(pair_line == -1e9, np.nan, pair_line)
    pair_mkt = mkt[pair_pm]
    o, u, p = _probs(pms, sims, pair_pm, pair_line, pair_mkt)
    over, under, push = o[pair], u[pair], p[pair]
    h2h = market_all == "h2h"
    over = np.where(h2h, fair_mean[pm], over)
    under = np.where(h2h, 1 - fair_mean[pm], under)

    d_over = american_to_decimal(valid_american(out["over_price"].to_numpy(float,
                                                                           na_value=np.nan)))
    d_under = american_to_decimal(valid_american(out["under_price"].to_numpy(float,
                                                                             na_value=np.nan)))
    e_over, e_under = edge(over, under, p_over_nv), edge(under, over, p_under_nv)
    ev_o, ev_u = expected_value(over, under, d_over), expected_value(under, over, d_under)
    with np.errstate(invalid="ignore"):
        both = ~np.isnan(e_over) & ~np.isnan(e_under)
        over_best = np.where(both, e_over >= e_under,
                             np.nan_to_num(ev_o, nan=-np.inf) >= np.nan_to_num(ev_u, nan=-np.inf))
    best = np.where(over_best, "over", "under")
    sim_row = simulated[pm]

    out["implied_prob"] = p_over_nv
    out["fair_line"] = pms["fair_line"].to_numpy()[pm]
    out["fair_over_prob"] = over
    out["fair_under_prob"] = under
    out["push_prob"] = push
    out["p05"] = pms["p05"].to_numpy()[pm]
    out["p95"] = pms["p95"].to_numpy()[pm]
    out["edge_over"], out["edge_under"] = e_over, e_under
    out["ev_over"], out["ev_under"] = ev_o, ev_u
    out["kelly_over"] = kelly(over, under, d_over, s.kelly_fraction)
    out["kelly_under"] = kelly(under, over, d_under, s.kelly_fraction)
    out["edge"] = np.where(over_best, e_over, e_under)
    out["best_side"] = pd.array(best, dtype="string")
    out["confidence_score"] = conf[pm]
    out["mc_se"] = np.where(sim_row, mc_standard_error(over, s.n_sims), 0.0)
    out["model"] = pd.array(model_name[pm], dtype="string")
    out["ev"] = np.where(over_best, ev_o, ev_u)
    out["kelly"] = np.where(over_best, out["kelly_over"].to_numpy(), out["kelly_under"].to_numpy())
    out["fair_source"] = pd.array(source[pm], dtype="string")
    out["model_weight"] = weight[pm]
    out["model_mean"] = model_mean[pm]
    out["market_mean"] = market_mean[pm]
    out["fair_mean"] = fair_mean[pm]
    return Board(out, pms, sims, s.n_sims)


def price_offers(offers: pd.DataFrame, priors: pd.DataFrame | None = None,
                 evidence: Iterable[Evidence] | pd.DataFrame | None = None, *,
                 n_sims: int = 10_000, seed: int = 0, kelly_fraction: float = 0.25,
                 movements: pd.DataFrame | None = None, now: pd.Timestamp | None = None,
                 settings: PricingSettings | None = None) -> pd.DataFrame:
    """A copy of the offer frame with the model's columns added (see ``PRICE_COLUMNS``)."""
    s = replace(settings or PricingSettings(), n_sims=n_sims, seed=seed,
                kelly_fraction=kelly_fraction)
    return price_board(offers, priors, evidence, movements=movements, now=now,
                       settings=s).offers
