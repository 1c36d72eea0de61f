"""``propsage backtest --db FILE --strategy NAME|FILE --out report.html|report.json``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from propsage.backtest.strategy import PRESETS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``propsage backtest``."""
    parser.add_argument("--db", dest="db_path", type=Path,
                        help="DuckDB store or Parquet export directory (default: settings)")
    parser.add_argument("--sample", action="store_true",
                        help="use the generated sample store (built on first use)")
    parser.add_argument("--strategy", default="edge",
                        help=f"preset ({', '.join(PRESETS)}) or a .toml/.json/.yaml file")
    parser.add_argument("--out", type=Path, default=Path("backtest.html"),
                        help="report path: .html or .json")
    parser.add_argument("--min-ev", type=float, help="override the strategy's min_ev")
    parser.add_argument("--books", nargs="+", help="override: bet only at these books")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def main(args: argparse.Namespace) -> int:
    """Run the backtest and write the report."""
    from propsage.backtest.engine import run_backtest
    from propsage.backtest.report import write_report
    from propsage.backtest.strategy import load_strategy

    if args.sample:
        from propsage.backtest.sample import build_sample

        source = build_sample()
    elif args.db_path is not None:
        source = args.db_path
    else:
        from propsage.config import load_settings

        source = load_settings().db_path
    if args.out.suffix.lower() not in (".html", ".htm", ".json"):
        print(f"propsage backtest: --out must end in .html or .json, got {args.out}",
              file=sys.stderr)
        return 2
    try:
        strategy = load_strategy(args.strategy)
    except (ValueError, OSError) as exc:
        print(f"propsage backtest: {exc}", file=sys.stderr)
        return 2
    changes = {}
    if args.min_ev is not None:
        changes["min_ev"] = args.min_ev
    if args.books:
        changes["books"] = tuple(args.books)
    if changes:
        strategy = strategy.replace(**changes)
    try:
        result = run_backtest(source, strategy, progress=not args.no_progress)
    except FileNotFoundError as exc:
        print(f"propsage backtest: {exc}", file=sys.stderr)
        return 2
    path = write_report(result, args.out)
    s = result.summary()
    roi = s["flat"]["roi"]
    beat = s["clv"].get("line_aware", {}).get("beat_close")
    print(f"{len(result.bets)} bets on {result.info['games']} games; flat ROI "
          f"{'n/a' if roi != roi else f'{100 * roi:.1f} %'}; beat the close "
          f"{'n/a' if beat is None or beat != beat else f'{100 * beat:.1f} %'}; report: {path}")
    return 0
