"""Point-in-time backtests on stored snapshots: strategies, grading, CLV, metrics, reports.

    from propsage.backtest import Strategy, run_backtest
    result = run_backtest("data/propsage.duckdb", Strategy(min_ev=0.03, books=("fanduel",)))
    result.summary()                      # ROI with CIs, hit rate, CLV, calibration, ...
    write_report(result, "report.html")   # or .json
"""

from propsage.backtest.engine import BacktestResult, read_boards, run_backtest
from propsage.backtest.report import write_report
from propsage.backtest.strategy import PRESETS, Strategy, load_strategy

__all__ = ["PRESETS", "BacktestResult", "Strategy", "load_strategy", "read_boards",
           "run_backtest", "write_report"]
