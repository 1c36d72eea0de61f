"""Research access while the app runs: sealed Parquet exports and a read-only DuckDB view.

DuckDB lets one process hold a database file for writing, so a notebook cannot open the store
while ``panel serve`` ingests. The running app therefore exports, on a schedule, each finished
day as *sealed* hive-partitioned Parquet::

    <out>/odds_snapshots/league=nba/date=2025-11-20/part-<uuid>.parquet   (date of fetched_at)
    <out>/results/league=nba/date=2025-11-20/part-<uuid>.parquet          (game_date)
    <out>/games_live/league=nba/date=2025-11-20/part-<uuid>.parquet       (date of start_time)
    <out>/<table>/_manifest.json        sealed partitions: rows, file, written_at

A partition (league, UTC day) is sealed once the day is over plus ``grace`` (default 6 h, so
late games and their last quotes are in). A sealed file is never modified: when a sealed day's
row count changes later (an import backfilled it) the partition is rewritten to a new file and
swapped in, and the manifest follows. ``league`` and ``date`` live in the path, not the files.

``connect()`` opens an in-memory DuckDB with views ``odds_snapshots``, ``results`` and
``games_live`` over those files, plus, when the live DB file is free (no process holds it),
its rows of the days not yet sealed and its other tables. The same layout is what Spark,
Trino or Polars read (docs/research.md).
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

log = logging.getLogger(__name__)

# table -> (timestamp or date column whose UTC day is the partition date)
EXPORT_TABLES: dict[str, str] = {
    "odds_snapshots": "fetched_at",
    "results": "game_date",
    "games_live": "start_time",
}
LIVE_ONLY = ("prop_offers", "line_movements", "players", "rejected_quotes")
DEFAULT_GRACE = pd.Timedelta(hours=6)
UNKNOWN_LEAGUE = "unknown"


@dataclass(slots=True)
class ExportReport:
    """What one export wrote."""

    out_dir: Path
    written: dict[str, list[tuple[str, str, int]]] = field(default_factory=dict)
    skipped_open: int = 0

    @property
    def partitions(self) -> int:
        """Partitions written (new or rewritten)."""
        return sum(len(v) for v in self.written.values())

    @property
    def rows(self) -> int:
        """Rows written."""
        return sum(n for v in self.written.values() for _, _, n in v)


def _day_expr(table: str) -> str:
    col = EXPORT_TABLES[table]
    return col if table == "results" else f"CAST({col} AS DATE)"


def _manifest_path(out_dir: Path, table: str) -> Path:
    return out_dir / table / "_manifest.json"


def read_manifest(out_dir: str | Path, table: str) -> dict[str, dict[str, Any]]:
    """Sealed partitions of a table: 'league/date' -> {rows, file, written_at}."""
    path = _manifest_path(Path(out_dir), table)
    return json.loads(path.read_text()) if path.exists() else {}


def _write_manifest(out_dir: Path, table: str, manifest: dict[str, dict[str, Any]]) -> None:
    path = _manifest_path(out_dir, table)
    tmp = path.with_suffix(f".{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    tmp.replace(path)


def _cursor(source: Any) -> tuple[duckdb.DuckDBPyConnection, Callable[[], None]]:
    from propsage.store import Store

    if isinstance(source, Store):
        cur = source.cursor()
        return cur, cur.close
    if isinstance(source, duckdb.DuckDBPyConnection):
        return source, lambda: None
    con = duckdb.connect(str(source), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    return con, con.close


def export_parquet(source: Any, out_dir: str | Path, *,
                   tables: Sequence[str] = tuple(EXPORT_TABLES), now: pd.Timestamp | None = None,
                   grace: pd.Timedelta = DEFAULT_GRACE, seal_all: bool = False) -> ExportReport:
    """Write every finished, new or changed (league, day) partition as sealed Parquet.

    ``source``: a ``Store`` (the running app's), a DuckDB file path or a connection.
    ``seal_all`` also seals days not yet over (a finished history, e.g. after an import).
    """
    out = Path(out_dir)
    now = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    cutoff = (now - grace).tz_convert("UTC").normalize()      # days before this are over
    report = ExportReport(out_dir=out)
    con, close = _cursor(source)
    try:
        for table in tables:
            report.written[table] = _export_table(con, out, table, cutoff, seal_all, report)
    finally:
        close()
    return report


def _export_table(con: duckdb.DuckDBPyConnection, out: Path, table: str, cutoff: pd.Timestamp,
                  seal_all: bool, report: ExportReport) -> list[tuple[str, str, int]]:
    day = _day_expr(table)
    counts = con.execute(
        f"SELECT coalesce(league, '{UNKNOWN_LEAGUE}') AS league, {day} AS date, count(*) AS n "
        f"FROM {table} WHERE {day} IS NOT NULL GROUP BY ALL").df()
    if counts.empty:
        return []
    counts["date"] = pd.to_datetime(counts["date"]).dt.strftime("%Y-%m-%d")
    manifest = read_manifest(out, table)
    key = counts["league"] + "/" + counts["date"]
    done = key.map(lambda k: manifest.get(k, {}).get("rows", -1))
    due = counts["date"] < cutoff.strftime("%Y-%m-%d")
    if seal_all:
        due[:] = True
    report.skipped_open += int((~due).sum())
    todo = counts[due & (done != counts["n"])]
    if todo.empty:
        return []
    stage = out / "_staging" / uuid.uuid4().hex
    stage.mkdir(parents=True)
    parts = todo[["league", "date"]].astype(object)
    con.register("export_parts", parts)
    try:
        con.execute(
            f"""COPY (SELECT t.* EXCLUDE (league), coalesce(t.league, '{UNKNOWN_LEAGUE}') AS league,
                      strftime({day}, '%Y-%m-%d') AS date
                FROM {table} t
                SEMI JOIN export_parts p ON coalesce(t.league, '{UNKNOWN_LEAGUE}') = p.league
                     AND strftime({day}, '%Y-%m-%d') = p.date)
            TO '{stage}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (league, date),
                          FILENAME_PATTERN 'part-{{uuid}}')""")
    finally:
        con.unregister("export_parts")
    written = []
    written_at = pd.Timestamp.now(tz="UTC").isoformat()
    for league, date, n in todo[["league", "date", "n"]].itertuples(index=False):
        src = stage / f"league={league}" / f"date={date}"
        dst = out / table / f"league={league}" / f"date={date}"
        files = sorted(src.glob("*.parquet"))
        if not files:
            continue
        dst.mkdir(parents=True, exist_ok=True)
        old = list(dst.glob("*.parquet"))
        for f in files:
            f.replace(dst / f.name)     # new file first, then drop the old: never a gap
        for f in old:
            f.unlink()
        manifest[f"{league}/{date}"] = {"rows": int(n), "files": [f.name for f in files],
                                        "written_at": written_at}
        written.append((league, date, int(n)))
    _write_manifest(out, table, manifest)
    shutil.rmtree(stage, ignore_errors=True)
    log.info("research: exported %d %s partitions (%d rows)", len(written), table,
             sum(n for *_, n in written))
    return written


def export_job(store: Any, out_dir: str | Path, **kwargs: Any) -> Callable[[], ExportReport]:
    """A no-argument callable exporting ``store`` (for a scheduler); never raises."""
    def run() -> ExportReport:
        try:
            return export_parquet(store, out_dir, **kwargs)
        except Exception:
            log.exception("research: parquet export failed")
            return ExportReport(out_dir=Path(out_dir))

    return run


def schedule_export(scheduler: Any, store: Any, out_dir: str | Path, *, minutes: float = 60.0,
                    job_id: str = "parquet-export", **kwargs: Any) -> Any:
    """Register the export as an APScheduler interval job on a running scheduler."""
    return scheduler.add_job(export_job(store, out_dir, **kwargs), "interval",
                             minutes=minutes, id=job_id, replace_existing=True,
                             max_instances=1, coalesce=True)


# -- reading ----------------------------------------------------------------------------------

def _glob(out: Path, table: str) -> str:
    return str(out / table / "*" / "*" / "*.parquet")


def _has_files(out: Path, table: str) -> bool:
    return any((out / table).glob("league=*/date=*/*.parquet"))


def _attach_live(con: duckdb.DuckDBPyConnection, live_db: Path) -> bool:
    try:
        con.execute(f"ATTACH '{live_db}' AS live (READ_ONLY)")
        return True
    except duckdb.Error as exc:      # held by the running app (or missing): Parquet only
        log.info("research: live DB %s not attached: %s", live_db, str(exc).splitlines()[0])
        return False


def connect(parquet_dir: str | Path | None = None, live_db: str | Path | None | bool = True
            ) -> duckdb.DuckDBPyConnection:
    """A read-only view: sealed Parquet plus the live DB's unsealed rows when it is free.

    ``parquet_dir`` defaults to the settings' ``parquet_dir``; ``live_db=True`` means the
    settings' ``db_path``, ``None``/``False`` Parquet only. The view ``propsage_sources`` says
    what was available.
    """
    if parquet_dir is None or live_db is True:
        from propsage.config import load_settings

        settings = load_settings()
        parquet_dir = settings.parquet_dir if parquet_dir is None else parquet_dir
        live_db = settings.db_path if live_db is True else live_db
    out = Path(parquet_dir)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    live = bool(live_db) and Path(str(live_db)).exists() and _attach_live(con, Path(str(live_db)))
    live_tables = set()
    if live:
        live_tables = set(con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'live'").df()
            ["table_name"])
    for table in EXPORT_TABLES:
        parts = []
        if _has_files(out, table):
            parts.append(f"SELECT * EXCLUDE (date) FROM read_parquet('{_glob(out, table)}', "
                         "hive_partitioning = true, union_by_name = true)")
        if table in live_tables:
            sealed = pd.DataFrame(
                [k.split("/", 1) for k in read_manifest(out, table)] or [],
                columns=["league", "date"]).astype(object)
            con.register(f"_sealed_{table}", sealed)
            day = _day_expr(table)
            parts.append(
                f"SELECT t.* FROM live.{table} t WHERE NOT EXISTS (SELECT 1 FROM "
                f"_sealed_{table} s WHERE s.league = coalesce(t.league, '{UNKNOWN_LEAGUE}') "
                f"AND s.date = strftime({day}, '%Y-%m-%d'))")
        if parts:
            con.execute(f"CREATE VIEW {table} AS " + " UNION ALL BY NAME ".join(parts))
    for table in LIVE_ONLY:
        if table in live_tables:
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM live.{table}")
    sources = pd.DataFrame({"source": ["parquet", "live_db"],
                            "location": [str(out), str(live_db or "")],
                            "available": [any(_has_files(out, t) for t in EXPORT_TABLES), live]})
    con.register("_sources", sources)
    con.execute("CREATE VIEW propsage_sources AS SELECT * FROM _sources")
    return con


# -- CLI: propsage export -----------------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``propsage export``."""
    parser.add_argument("--db", dest="db_path", type=Path, help="DuckDB store (default: settings)")
    parser.add_argument("--out", type=Path, help="Parquet directory (default: settings)")
    parser.add_argument("--tables", nargs="+", choices=list(EXPORT_TABLES),
                        default=list(EXPORT_TABLES))
    parser.add_argument("--all", dest="seal_all", action="store_true",
                        help="also seal days that are not over yet (a finished history)")


def main(args: argparse.Namespace) -> int:
    """Export the store's finished days to sealed Parquet."""
    db, out = args.db_path, args.out
    if db is None or out is None:
        from propsage.config import load_settings

        settings = load_settings()
        db = db or settings.db_path
        out = out or settings.parquet_dir
    try:
        report = export_parquet(db, out, tables=args.tables, seal_all=args.seal_all)
    except duckdb.Error as exc:
        print(f"propsage export: cannot read {db}: {str(exc).splitlines()[0]}\n"
              "(while the app runs, it exports on its own schedule)")
        return 1
    print(f"exported {report.partitions} partitions ({report.rows} rows) to {out}; "
          f"{report.skipped_open} open day partitions left for later")
    return 0
