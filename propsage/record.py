"""``propsage record --out FILE.jsonl.gz``: ingest from The Odds API and save every response.

Each response becomes one JSON line in the capture format of the MIT NFL captures
(``{"snapshot_time", "data"}``) plus ``endpoint``, ``params``, ``status`` and ``quota`` (and
``error`` for failed calls), so ``ReplayProvider`` and the fixture server can serve it back.
The API key is never written: it is not in ``params`` and URLs are not stored.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import signal
import threading
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)


class CaptureWriter:
    """Appends response records to a JSONL (``.gz``: gzip members) file, thread-safe."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Held open for the recorder's life (closed in close()); gzip appends a new member.
        self._fh: IO[str] = (gzip.open(self.path, "at", encoding="utf-8")  # noqa: SIM115
                             if self.path.suffix == ".gz"
                             else open(self.path, "a", encoding="utf-8"))  # noqa: SIM115
        self._lock = threading.Lock()
        self.count = 0

    def write(self, record: dict) -> None:
        """Append one response record (``params`` must not hold the key; dropped if it does)."""
        record = {**record, "params": {k: v for k, v in (record.get("params") or {}).items()
                                       if k.lower() != "apikey"}}
        line = json.dumps(record, separators=(",", ":")) + "\n"
        with self._lock:
            self._fh.write(line)
            self._fh.flush()   # a killed recorder keeps every complete line
            self.count += 1

    def close(self) -> None:
        """Flush and close the file."""
        with self._lock:
            self._fh.close()

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``propsage record``."""
    parser.add_argument("--out", type=Path, required=True, help="capture file (.jsonl or .jsonl.gz)")
    parser.add_argument("--db", dest="db_path", type=Path, help="DuckDB file to ingest into too")
    parser.add_argument("--polls", type=int, default=0, help="stop after N polls (0: until Ctrl-C)")
    parser.add_argument("--interval", type=float, default=None,
                        help="seconds between polls (default: PROPSAGE_PREGAME_INTERVAL)")


def main(args: argparse.Namespace) -> int:
    """Poll The Odds API into the store, recording every response, until stopped."""
    from propsage.config import ConfigError, load_settings
    from propsage.runtime import build_runtime

    try:
        settings = load_settings().with_overrides(provider="theoddsapi", db_path=args.db_path)
    except ConfigError as exc:
        print(f"propsage record: {exc}")
        return 2
    rt = build_runtime(settings)
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    interval = args.interval if args.interval is not None else settings.pregame_interval
    polls = 0
    with CaptureWriter(args.out) as writer:
        rt.provider.on_response = writer.write
        try:
            while not stop.is_set():
                report = rt.ingestor.poll("all")
                polls += 1
                print(f"poll {polls}: {report.games} games, {report.quotes} quotes, "
                      f"{report.snapshots} snapshots, {len(report.failed)} failed, "
                      f"{writer.count} responses recorded, credits left "
                      f"{rt.provider.health.requests_remaining}"
                      + (f" ({report.error})" if report.error else ""), flush=True)
                if args.polls and polls >= args.polls:
                    break
                stop.wait(interval)
        finally:
            rt.stop()
    print(f"recorded {writer.count} responses to {args.out}")
    return 0
