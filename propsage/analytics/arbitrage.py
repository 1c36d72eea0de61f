"""Arbitrage and middles across books, guarded against false signals.

*Arbitrage*: on one line (same game, player, market and point) the best over and the best
under, from different books, with 1/d_over + 1/d_under < 1. Staking each side in proportion to
its inverse odds pays bankroll / inv_sum whatever happens: a return of 1/inv_sum - 1.
Only ``usable`` quotes count (see ``propsage.analytics.consensus.screen``): not suspended, not
older than ``max_age``, not a pre-game quote on a live game, not an impossible own hold, not
off the consensus at its line (a price under the wrong line fakes most arbs).

*Middles*: the over at a lower threshold t_o at one book and the under at a higher threshold
t_u at another both win when t_o < X < t_u. With integer outcomes, five states: X < t_o, X = t_o
(over pushes), between, X = t_u (under pushes), X > t_u; their probabilities come from the
outcome distribution (``prob_fn``, anchored at the consensus), the stakes equalise the two
payouts, ``cost`` is what is lost when only one side wins and ``ev`` the expected profit.
"""

from __future__ import annotations

import pandas as pd

from propsage.analytics.consensus import Screened, best_from_screened, screen
from propsage.analytics.distribution import (
    NormalApprox,
    ProbFn,
    survival_at_least,
    survival_over,
)
from propsage.analytics.quotes import (
    GROUP,
    LINE_KEY,
    decimal_odds,
    threshold,
)

ARB_COLUMNS = [
    *LINE_KEY, "over_book", "over_price", "under_book", "under_price", "inv_sum", "return_pct",
    "stake_over", "stake_under", "payout", "profit", "opened_at", "oldest_leg_time",
]
MIDDLE_COLUMNS = [
    *GROUP, "over_line", "over_book", "over_price", "under_line", "under_book", "under_price",
    "gap", "hit_prob", "push_prob", "stake_over", "stake_under", "cost", "ev", "ev_pct",
]
# A pre-game quote can rest for hours (NFL: median 3.5 h between changes); an in-play one
# changes every few minutes, so one untouched for 10 minutes is taken as no longer offered.
DEFAULT_MAX_AGE = pd.Timedelta("12h")
DEFAULT_MAX_AGE_LIVE = pd.Timedelta("10min")


def _ages(max_age: str | pd.Timedelta | None,
          max_age_live: str | pd.Timedelta | None) -> dict[str, pd.Timedelta | None]:
    return {"max_age": None if max_age is None else pd.Timedelta(max_age),
            "max_age_live": None if max_age_live is None else pd.Timedelta(max_age_live)}


def arbs_from_best(best: pd.DataFrame, bankroll: float = 100.0,
                   min_return: float = 0.0) -> pd.DataFrame:
    """Arbitrage rows from a best-price table."""
    b = best[(best["inv_sum"] < 1.0 / (1.0 + min_return) - 1e-12)
             & (best["best_over_book"] != best["best_under_book"])]
    if b.empty:
        return pd.DataFrame(columns=ARB_COLUMNS)
    inv_o = 1.0 / decimal_odds(b["best_over_price"].to_numpy(float))
    inv_u = 1.0 / decimal_odds(b["best_under_price"].to_numpy(float))
    inv = b["inv_sum"].to_numpy(float)
    out = pd.DataFrame({
        **{c: b[c].to_numpy() for c in LINE_KEY},
        "over_book": b["best_over_book"].to_numpy(), "over_price": b["best_over_price"].to_numpy(),
        "under_book": b["best_under_book"].to_numpy(),
        "under_price": b["best_under_price"].to_numpy(),
        "inv_sum": inv, "return_pct": 100.0 * (1.0 / inv - 1.0),
        "stake_over": bankroll * inv_o / inv, "stake_under": bankroll * inv_u / inv,
        "payout": bankroll / inv, "profit": bankroll / inv - bankroll,
        "oldest_leg_time": b["oldest_leg_time"].to_numpy(),
    })
    out["opened_at"] = b["newest_leg_time"].to_numpy()
    return out[ARB_COLUMNS].reset_index(drop=True)


def arbitrage(
    board: pd.DataFrame,
    *,
    bankroll: float = 100.0,
    max_age: str | pd.Timedelta | None = DEFAULT_MAX_AGE,
    max_age_live: str | pd.Timedelta | None = DEFAULT_MAX_AGE_LIVE,
    now: pd.Timestamp | None = None,
    min_return: float = 0.0,
    prob_fn: ProbFn | None = None,
    screened: Screened | None = None,
    **guards: object,
) -> pd.DataFrame:
    """Arbitrage on matching lines across books, with stakes for ``bankroll``."""
    sc = screened or screen(board, prob_fn=prob_fn, now=now, **_ages(max_age, max_age_live),
                            **guards)
    best = best_from_screened(sc.quotes)
    return arbs_from_best(best, bankroll, min_return)


def middles(
    board: pd.DataFrame,
    *,
    prob_fn: ProbFn | None = None,
    bankroll: float = 100.0,
    max_age: str | pd.Timedelta | None = DEFAULT_MAX_AGE,
    max_age_live: str | pd.Timedelta | None = DEFAULT_MAX_AGE_LIVE,
    now: pd.Timestamp | None = None,
    min_ev: float | None = 0.0,
    max_gap: float | None = None,
    screened: Screened | None = None,
    best: pd.DataFrame | None = None,
    **guards: object,
) -> pd.DataFrame:
    """Over-low / under-high pairs across lines with hit and push probabilities, cost and EV.

    ``screened`` / ``best``: reuse a ``screen`` result and its best-price table.
    """
    prob_fn = prob_fn or NormalApprox()
    sc = screened or screen(board, prob_fn=prob_fn, now=now, **_ages(max_age, max_age_live),
                            **guards)
    best = best_from_screened(sc.quotes) if best is None else best
    if best.empty:
        return pd.DataFrame(columns=MIDDLE_COLUMNS)
    t = threshold(best["market"].to_numpy(object), best["line"].to_numpy(float))
    best = best.assign(_t=t)
    o = best[best["best_over_price"].notna()][[*GROUP, "line", "_t", "best_over_price",
                                               "best_over_book"]]
    u = best[best["best_under_price"].notna()][[*GROUP, "line", "_t", "best_under_price",
                                                "best_under_book"]]
    pairs = o.merge(u, on=GROUP, suffixes=("_o", "_u"))
    pairs = pairs[pairs["_t_o"] < pairs["_t_u"]]
    if max_gap is not None:
        pairs = pairs[pairs["_t_u"] - pairs["_t_o"] <= max_gap]
    if pairs.empty:
        return pd.DataFrame(columns=MIDDLE_COLUMNS)
    cons = sc.consensus.set_index(GROUP)
    key = pd.MultiIndex.from_frame(pairs[GROUP])
    c = cons.reindex(key)
    anchors = pd.DataFrame({
        "game_id": pairs["game_id"].to_numpy(), "player_id": pairs["player_id"].to_numpy(),
        "market": pairs["market"].to_numpy(), "league": c["league"].fillna("").to_numpy(),
        "line": threshold(pairs["market"].to_numpy(object), c["prob_line"].to_numpy(float)),
        "prob": c["consensus_prob"].to_numpy(float),
    })
    if isinstance(prob_fn, NormalApprox):
        kind, par = prob_fn.scale_params(anchors["market"].to_numpy(object),
                                         anchors["league"].to_numpy(object))
        anchors = anchors.assign(scale_kind=kind, scale_par=par)
    t_o, t_u = pairs["_t_o"].to_numpy(float), pairs["_t_u"].to_numpy(float)
    over_o, least_o = survival_over(prob_fn, anchors, t_o), survival_at_least(prob_fn, anchors, t_o)
    over_u, least_u = survival_over(prob_fn, anchors, t_u), survival_at_least(prob_fn, anchors, t_u)
    p_below = 1.0 - least_o          # over loses, under wins
    p_push_o = least_o - over_o      # over pushes, under wins
    p_hit = over_o - least_u         # both win
    p_push_u = least_u - over_u      # over wins, under pushes
    p_above = over_u                 # over wins, under loses
    d_o = decimal_odds(pairs["best_over_price"].to_numpy(float))
    d_u = decimal_odds(pairs["best_under_price"].to_numpy(float))
    inv_o, inv_u = 1.0 / d_o, 1.0 / d_u
    s_o = bankroll * inv_o / (inv_o + inv_u)
    s_u = bankroll - s_o
    ev = (p_below * (s_u * d_u) + p_push_o * (s_o + s_u * d_u) + p_hit * (s_o * d_o + s_u * d_u)
          + p_push_u * (s_o * d_o + s_u) + p_above * (s_o * d_o)) - bankroll
    out = pd.DataFrame({
        **{col: pairs[col].to_numpy() for col in GROUP},
        "over_line": pairs["line_o"].to_numpy(), "over_book": pairs["best_over_book"].to_numpy(),
        "over_price": pairs["best_over_price"].to_numpy(),
        "under_line": pairs["line_u"].to_numpy(),
        "under_book": pairs["best_under_book"].to_numpy(),
        "under_price": pairs["best_under_price"].to_numpy(),
        "gap": t_u - t_o, "hit_prob": p_hit, "push_prob": p_push_o + p_push_u,
        "stake_over": s_o, "stake_under": s_u, "cost": bankroll - s_o * d_o, "ev": ev,
        "ev_pct": 100.0 * ev / bankroll,
    })
    if min_ev is not None:
        out = out[out["ev"] >= min_ev]
    return out.sort_values("ev", ascending=False, kind="stable")[MIDDLE_COLUMNS].reset_index(
        drop=True)
