"""Market analytics: line movement, steam and lead-lag, consensus and outliers, arbitrage and
middles, trends; batch functions for notebooks and an incremental engine for ingest.

Every function is pure: it works on copies and never mutates its inputs. See docs/analytics.md.
"""

from propsage.analytics.arbitrage import arbitrage, middles
from propsage.analytics.consensus import (
    Screened,
    ScreenParams,
    best_prices,
    consensus,
    outliers,
    screen,
)
from propsage.analytics.distribution import NormalApprox, ProbFn, same_line_only
from propsage.analytics.engine import AnalyticsEngine, AnalyticsResult, EngineParams, as_analyzer
from propsage.analytics.history import replay_polls, snapshots_from_line_changes
from propsage.analytics.movement import line_movements, main_line_series, velocity
from propsage.analytics.steam import detect_steam, lead_lag_table, steam_members
from propsage.analytics.trends import consensus_history, trends
from propsage.analytics.windows import arbitrage_windows

__all__ = [
    "AnalyticsEngine", "AnalyticsResult", "EngineParams", "NormalApprox", "ProbFn",
    "ScreenParams", "Screened", "arbitrage", "arbitrage_windows", "as_analyzer", "best_prices",
    "consensus", "consensus_history", "detect_steam", "lead_lag_table", "line_movements",
    "main_line_series", "middles", "outliers", "replay_polls", "same_line_only", "screen",
    "snapshots_from_line_changes", "steam_members", "trends", "velocity",
]
