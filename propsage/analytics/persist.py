"""Analytics inside ingest: run the engine on each stored batch, store what it found, return events.

``make_analyzer(store, pricer)`` is the ``Analyzer`` the runtime hands to ``Ingestor``. Results
go to the tables of migration 003 (steam_moves, steam_members, arbitrage_windows, middles,
market_consensus, quote_flags); the store's own ``line_movements`` already holds the moves.
Line-aware comparisons use the pricing engine's distributions when a pricer is given, and the
normal approximation where the model has no view (game markets, unknown players).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from propsage.analytics.distribution import NormalApprox
from propsage.analytics.engine import AnalyticsEngine, AnalyticsResult, as_analyzer
from propsage.domain import LiveEvent

log = logging.getLogger(__name__)

TABLES = {
    "steam_moves": ["steam_id", "game_id", "player_id", "market", "league", "direction",
                    "n_books", "books", "first_book", "started_at", "last_moved_at",
                    "detected_at", "detection_delay_s", "from_line", "to_line", "is_live"],
    "steam_members": ["steam_id", "book", "rank", "is_leader", "moved_at", "timestamp", "lag_s",
                      "line_move", "prob_move"],
    "arbitrage_windows": ["game_id", "player_id", "market", "line_numeric", "over_book",
                          "over_price", "under_book", "under_price", "return_pct", "opened_at",
                          "detected_at"],
    "middles": ["game_id", "player_id", "market", "over_line", "over_book", "over_price",
                "under_line", "under_book", "under_price", "gap", "hit_prob", "push_prob", "cost",
                "ev", "found_at"],
    "market_consensus": ["game_id", "player_id", "market", "league", "n_books", "consensus_line",
                         "prob_line", "consensus_prob", "line_spread", "prob_spread", "agreement",
                         "hold_median", "line_aware", "n_flagged", "updated_at"],
    "quote_flags": ["offer_id", "game_id", "player_id", "market", "book", "line_numeric",
                    "reason", "prob", "expected_prob", "prob_gap", "likely_line", "flagged_at"],
}


class PricedProb:
    """``ProbFn`` backed by the pricing engine's last board; NormalApprox where it has no view."""

    def __init__(self, pricer: Any, fallback: Callable | None = None):
        self.pricer = pricer
        self.fallback = fallback or NormalApprox()

    def __call__(self, anchors: pd.DataFrame, x: np.ndarray) -> np.ndarray:
        out = np.asarray(self.fallback(anchors, x), dtype=float).copy()
        board = getattr(self.pricer, "board", None)
        if board is None or not len(anchors):
            return out
        # Player markets only: their thresholds are plain lines in both conventions.
        player = (anchors["player_id"].astype(str) != "").to_numpy()
        if not player.any():
            return out
        keys = anchors.loc[player, ["game_id", "player_id", "market"]]
        xs = np.broadcast_to(np.asarray(x, dtype=float), (len(anchors),))[player]
        over, _, _ = board.over_under_push(keys, xs)
        have = ~np.isnan(over)
        idx = np.flatnonzero(player)[have]
        out[idx] = over[have]
        return out


def _frame(df: pd.DataFrame, cols: list[str], **fill: Any) -> pd.DataFrame:
    out = df.rename(columns={"line": "line_numeric"}).copy()
    for c, v in fill.items():
        out[c] = v
    for c in cols:
        if c not in out:
            out[c] = None
    out = out[cols]
    return out.astype({c: object for c in cols if out[c].dtype == "string" or
                       str(out[c].dtype) == "str"})


def store_result(store: Any, result: AnalyticsResult) -> None:
    """Write one update's findings (one transaction)."""
    now = result.now
    writes: list[tuple[str, pd.DataFrame, str]] = []
    if len(result.steam):
        writes.append(("steam_moves", _frame(result.steam, TABLES["steam_moves"]), "ignore"))
    if len(result.steam_members):
        writes.append(("steam_members", _frame(result.steam_members, TABLES["steam_members"]),
                       "ignore"))
    if len(result.arbs_opened):
        writes.append(("arbitrage_windows", _frame(result.arbs_opened,
                                                   TABLES["arbitrage_windows"], detected_at=now),
                       "ignore"))
    if len(result.middles):
        writes.append(("middles", _frame(result.middles, TABLES["middles"], found_at=now), ""))
    if len(result.consensus):
        writes.append(("market_consensus", _frame(result.consensus, TABLES["market_consensus"],
                                                  updated_at=now), "replace"))
    if len(result.outliers):
        writes.append(("quote_flags", _frame(result.outliers, TABLES["quote_flags"],
                                             flagged_at=now), ""))
    closed = result.arbs_closed
    if not writes and not len(closed):
        return
    store.write_frames(writes, updates=[(
        "UPDATE arbitrage_windows AS a SET closed_at = c.closed_at, duration_s = c.duration_s, "
        "max_return_pct = c.max_return_pct FROM c_in AS c WHERE a.game_id = c.game_id AND "
        "a.player_id = c.player_id AND a.market = c.market AND a.line_numeric = c.line AND "
        "a.opened_at = c.opened_at", "c_in", closed)] if len(closed) else [])


def make_analyzer(store: Any, pricer: Any = None,
                  engine: AnalyticsEngine | None = None
                  ) -> Callable[[pd.DataFrame, Any, pd.Timestamp], list[LiveEvent]]:
    """The ingest ``Analyzer``: engine update, results stored, live events returned."""
    engine = engine or AnalyticsEngine(prob_fn=PricedProb(pricer) if pricer is not None else None)
    analyze_only = as_analyzer(engine)

    def analyze(batch: pd.DataFrame, changes: Any, now: pd.Timestamp) -> list[LiveEvent]:
        events = analyze_only(batch, changes, now)
        result = analyze_only.last  # type: ignore[attr-defined]
        if result is not None:
            try:
                store_result(store, result)
            except Exception:  # the events still go out; the next poll writes again
                log.exception("analytics: storing results failed")
        analyze.last = result  # type: ignore[attr-defined]
        return events

    analyze.last = None  # type: ignore[attr-defined]
    analyze.engine = engine  # type: ignore[attr-defined]
    return analyze
