"""Pricing: a fair distribution per player-market, and every offer priced from it.

Public API (all vectorised; see each module's docstring):

    price_offers(offers, priors=None, evidence=None, *, n_sims=10_000, seed=0,
                 kelly_fraction=0.25, movements=None, now=None, settings=None) -> DataFrame
        The offer frame (propsage.domain.OFFER_COLUMNS) plus implied_prob, fair_line,
        fair_over_prob, fair_under_prob, push_prob, p05, p95, edge_over, edge_under, ev_over,
        ev_under, kelly_over, kelly_under, edge, best_side, confidence_score, mc_se, model
        (and ev, kelly = the best side's, fair_source, model_weight, model_mean, market_mean,
        fair_mean).
    price_board(...) -> Board
        Same, keeping each player-market's fair distribution:
        Board.player_markets (indexed by game_id, player_id, market) and
        Board.over_under_push(keys, lines) -> (p_over, p_under, p_push) at any line.
    priors_from_results(results, *, as_of=None, settings=PriorSettings()) -> DataFrame
        indexed by (player_id, market): family, mean, var, zero_prob, shape, n, n_eff, weight...
    fit_market(offers, shapes=None, *, method="multiplicative") -> DataFrame
        The market-implied distribution per (game_id, player_id, market): family, mean, var,
        zero_prob, shape, n_quotes, n_books, mean_sd, consensus_line.
    prob_over_under_push(params, lines) -> (p_over, p_under, p_push)
        Exact probabilities of params rows (family, mean, var, zero_prob) at aligned lines.
    quantile(params, q), quantiles(params, qs)
    Evidence(player_id, market=None, kind="", mean_delta=0, var_delta=0, weight=1, prob=1)
    BoardPricer(load_results=..., load_movements=...)   callable for Ingestor(pricer=...)
    make_pricer(store) -> BoardPricer   priors from store's results, moves from line_movements
"""

from propsage.pricing.context import ContextSettings
from propsage.pricing.distributions import (
    Grid,
    count_grid,
    prob_over_under_push,
    quantile,
    quantiles,
)
from propsage.pricing.engine import PRICE_COLUMNS, Board, PricingSettings, price_board, price_offers
from propsage.pricing.evidence import Evidence, EvidenceBounds, apply_evidence, evidence_deltas
from propsage.pricing.market import fit_market, implied_mean, no_vig
from propsage.pricing.markets import MARKETS, MarketSpec, MarketTable
from propsage.pricing.montecarlo import simulate_sum
from propsage.pricing.pricer import BoardPricer, make_pricer
from propsage.pricing.priors import PriorSettings, priors_from_results
from propsage.pricing.value import edge, expected_value, kelly

__all__ = [
    "MARKETS", "PRICE_COLUMNS", "Board", "BoardPricer", "ContextSettings", "Evidence", "EvidenceBounds", "Grid",
    "MarketSpec", "MarketTable", "PriorSettings", "PricingSettings", "apply_evidence",
    "count_grid", "edge", "evidence_deltas", "expected_value", "fit_market", "implied_mean",
    "kelly", "make_pricer", "no_vig", "price_board", "price_offers", "priors_from_results",
    "prob_over_under_push", "quantile", "quantiles", "simulate_sum",
]
