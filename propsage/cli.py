"""The ``propsage`` command line: ingest, serve, record, replay fixtures, load stats, backtest."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from propsage.paths import REPO

log = logging.getLogger("propsage")


def _settings(args: argparse.Namespace):  # noqa: ANN202
    from propsage.config import ConfigError, load_settings

    overrides = {}
    for name in ("provider", "db_path", "replay_source", "replay_speed"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    try:
        return load_settings().with_overrides(**overrides)
    except ConfigError as exc:
        sys.exit(f"propsage: {exc}")


def cmd_ingest(args: argparse.Namespace) -> int:
    """Poll the provider into the DB: once, or on the schedule until interrupted."""
    from propsage.runtime import build_runtime

    rt = build_runtime(_settings(args))
    try:
        if args.once:
            report = rt.ingestor.poll("all")
            print(f"polled {report.games} games: {report.quotes} quotes, "
                  f"{report.snapshots} snapshots, {report.movements} movements, "
                  f"{report.rejected} rejected, {len(report.failed)} failed"
                  + (f" ({report.error})" if report.error else ""))
            return 1 if report.error else 0
        stop = threading.Event()
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        rt.ingestor.start()
        print(f"ingesting from {rt.provider.name} into {rt.settings.db_path}; Ctrl-C stops")
        done = getattr(rt.provider, "finished", None)
        while not stop.wait(1.0):
            if done is not None and done():
                print("replay finished")
                break
        return 0
    finally:
        rt.stop()


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the dashboard (``panel serve app``)."""
    env = dict(os.environ)
    if args.provider:
        env["PROPSAGE_PROVIDER"] = args.provider
    if args.db_path:
        env["PROPSAGE_DB"] = str(args.db_path)
    cmd = [sys.executable, "-m", "panel", "serve", str(REPO / "app" / "app.py"),
           "--port", str(args.port), "--address", args.address,
           "--allow-websocket-origin", f"{args.address}:{args.port}",
           "--allow-websocket-origin", f"localhost:{args.port}"]
    if args.show:
        cmd.append("--show")
    print(f"PropSage dashboard: http://{args.address}:{args.port}/app", flush=True)
    return subprocess.call(cmd, env=env)


def _delegate(module: str, func: str = "main"):  # noqa: ANN202
    def run(args: argparse.Namespace) -> int:
        import importlib

        return int(getattr(importlib.import_module(module), func)(args) or 0)

    return run


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    p = argparse.ArgumentParser(prog="propsage", description=__doc__)
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)

    ing = sub.add_parser("ingest", help="poll odds into the DuckDB store")
    ing.add_argument("--provider", choices=["mock", "theoddsapi", "replay"])
    ing.add_argument("--db", dest="db_path", type=Path)
    ing.add_argument("--source", dest="replay_source", type=Path, help="capture file to replay")
    ing.add_argument("--speed", dest="replay_speed", type=float, help="replay speed-up")
    ing.add_argument("--once", action="store_true", help="one poll of all games, then exit")
    ing.set_defaults(func=cmd_ingest)

    srv = sub.add_parser("serve", help="serve the dashboard")
    srv.add_argument("--provider", choices=["mock", "theoddsapi", "replay"])
    srv.add_argument("--db", dest="db_path", type=Path)
    srv.add_argument("--port", type=int, default=5006)
    srv.add_argument("--address", default="localhost")
    srv.add_argument("--show", action="store_true")
    srv.set_defaults(func=cmd_serve)

    for name, module, helptext in COMMANDS:
        try:
            import importlib

            mod = importlib.import_module(module)
        except ImportError:
            continue
        sp = sub.add_parser(name, help=helptext)
        mod.add_arguments(sp)
        sp.set_defaults(func=_delegate(module))
    return p


# Sub-commands that live beside the code they drive: each module has add_arguments(parser)
# and main(args) -> int.
COMMANDS: list[tuple[str, str, str]] = [
    ("record", "propsage.record", "record live Odds API responses to a capture file"),
    ("serve-fixture", "propsage.fixture_server",
     "serve captures as a local Odds-API-compatible server (with fault injection)"),
    ("load-stats", "propsage.loaders.cli", "load box scores / weekly stats into results"),
    ("import", "propsage.importers", "import historical odds into the store"),
    ("export", "propsage.research", "write sealed hive-partitioned Parquet of the store"),
    ("backtest", "propsage.backtest.cli", "backtest a strategy on stored snapshots"),
]


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``propsage`` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else os.environ.get("PROPSAGE_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
