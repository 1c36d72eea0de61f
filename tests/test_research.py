"""Sealed Parquet exports and the read-only research view."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pandas as pd

from propsage.domain import Game, as_offer_frame
from propsage.research import (
    add_arguments,
    connect,
    export_parquet,
    main,
    read_manifest,
    schedule_export,
)
from propsage.store import Store

DAY1 = pd.Timestamp("2025-11-20T18:00:00Z")
DAY2 = pd.Timestamp("2025-11-21T18:00:00Z")


def poll(store: Store, t: pd.Timestamp, game: str, league: str, price: float) -> None:
    rows = [{"game_id": game, "league": league, "player_name": "Cam Davis",
             "market": "player_points", "book": b, "line": 20.5, "over_price": price,
             "under_price": -110, "fetched_at": t} for b in ("draftkings", "fanduel")]
    store.apply_offers(as_offer_frame(rows), now=t)


def fill(store: Store) -> None:
    store.upsert_games([
        Game(id="a", league="nba", start_time=(DAY1 + pd.Timedelta(hours=6)).to_pydatetime(),
             home_team="H", away_team="A"),
        Game(id="b", league="nfl", start_time=(DAY2 + pd.Timedelta(hours=6)).to_pydatetime(),
             home_team="H", away_team="A")], DAY1)
    poll(store, DAY1, "a", "nba", -110)
    poll(store, DAY1 + pd.Timedelta(hours=1), "a", "nba", -120)
    poll(store, DAY2, "b", "nfl", -105)
    store.write_results(pd.DataFrame({"game_id": ["a"], "league": ["nba"],
                                      "game_date": ["2025-11-20"], "player_id": ["cam-davis"],
                                      "market": ["player_points"], "value": [22.0]}))


def test_export_seals_only_finished_days_as_hive_partitions(store, tmp_path):
    fill(store)
    report = export_parquet(store, tmp_path, now=DAY2)        # day 1 is over, day 2 is not
    assert report.written["odds_snapshots"] == [("nba", "2025-11-20", 4)]
    files = list((tmp_path / "odds_snapshots" / "league=nba" / "date=2025-11-20").glob("*.parquet"))
    assert len(files) == 1
    sealed = read_manifest(tmp_path, "odds_snapshots")
    assert list(sealed) == ["nba/2025-11-20"]
    assert (sealed["nba/2025-11-20"]["rows"], sealed["nba/2025-11-20"]["files"]) == (
        4, [files[0].name])
    assert report.skipped_open >= 1


def test_a_sealed_partition_is_left_alone_until_its_rows_change(store, tmp_path):
    fill(store)
    export_parquet(store, tmp_path, now=DAY2)
    part = tmp_path / "odds_snapshots" / "league=nba" / "date=2025-11-20"
    first = {f.name for f in part.glob("*.parquet")}
    assert export_parquet(store, tmp_path, now=DAY2).partitions == 0
    assert {f.name for f in part.glob("*.parquet")} == first
    poll(store, DAY1 + pd.Timedelta(hours=2), "a", "nba", -130)     # a late import of day 1
    again = export_parquet(store, tmp_path, now=DAY2)
    assert again.written["odds_snapshots"] == [("nba", "2025-11-20", 6)]
    now_files = {f.name for f in part.glob("*.parquet")}
    assert len(now_files) == 1 and now_files != first


def test_the_research_view_reads_the_same_rows_as_the_store(store, tmp_path):
    fill(store)
    export_parquet(store, tmp_path, seal_all=True)
    con = connect(tmp_path, live_db=None)
    cols = "prop_offer_id, book, line_numeric, over_price, fetched_at, league"
    got = con.execute(f"SELECT {cols} FROM odds_snapshots ORDER BY fetched_at, book").df()
    want = store.query(f"SELECT {cols} FROM odds_snapshots ORDER BY fetched_at, book")
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    assert con.execute("SELECT value FROM results").fetchall() == [(22.0,)]
    assert con.execute("SELECT available FROM propsage_sources WHERE source = 'live_db'"
                       ).fetchall() == [(False,)]


def test_a_free_live_db_adds_its_unsealed_days_without_duplicates(db_path, tmp_path):
    with Store(db_path) as store:
        fill(store)
        export_parquet(store, tmp_path, now=DAY2)              # seals day 1 only
    con = connect(tmp_path, live_db=db_path)
    by_day = con.execute("SELECT CAST(fetched_at AS DATE)::VARCHAR, count(*) FROM odds_snapshots "
                         "GROUP BY 1 ORDER BY 1").fetchall()
    assert by_day == [("2025-11-20", 4), ("2025-11-21", 2)]
    assert con.execute("SELECT count(*) FROM prop_offers").fetchall() == [(4,)]


def test_a_live_db_held_by_another_process_falls_back_to_parquet(db_path, tmp_path):
    with Store(db_path) as store:
        fill(store)
        export_parquet(store, tmp_path, seal_all=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('ready', flush=True); time.sleep(60)", str(db_path)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        con = connect(tmp_path, live_db=db_path)
        assert con.execute("SELECT count(*) FROM odds_snapshots").fetchall() == [(6,)]
        assert con.execute("SELECT available FROM propsage_sources WHERE source = 'live_db'"
                           ).fetchall() == [(False,)]
    finally:
        holder.kill()
        holder.wait()


def test_schedule_export_registers_an_interval_job_that_exports(store, tmp_path):
    from apscheduler.schedulers.background import BackgroundScheduler

    fill(store)
    sched = BackgroundScheduler(timezone="UTC")
    job = schedule_export(sched, store, tmp_path, minutes=30, seal_all=True)
    assert sched.get_job("parquet-export") is job
    assert job.trigger.interval == pd.Timedelta(minutes=30)
    assert read_manifest(tmp_path, "results") == {}
    job.func()
    assert read_manifest(tmp_path, "results")["nba/2025-11-20"]["rows"] == 1


def test_export_command_writes_a_closed_store(db_path, tmp_path, capsys):
    with Store(db_path) as store:
        fill(store)
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert main(parser.parse_args(["--db", str(db_path), "--out", str(tmp_path), "--all"])) == 0
    assert "exported" in capsys.readouterr().out
    # Games are partitioned by the UTC date of their start.
    assert read_manifest(tmp_path, "games_live").keys() == {"nba/2025-11-21", "nfl/2025-11-22"}


def test_the_layout_reads_as_a_hive_dataset_outside_duckdb(store, tmp_path):
    import pyarrow.dataset as ds

    fill(store)
    export_parquet(store, tmp_path, seal_all=True)
    data = ds.dataset(tmp_path / "odds_snapshots", format="parquet", partitioning="hive")
    table = data.to_table(filter=ds.field("league") == "nba")
    assert table.num_rows == 4
    assert {"league", "date", "prop_offer_id", "fetched_at"} <= set(table.column_names)


def test_a_backtest_runs_on_the_view_of_parquet_plus_the_live_file(db_path, tmp_path):
    from propsage.backtest import Strategy, run_backtest

    anything = Strategy(min_ev=-1.0, max_ev=10.0, min_books=1, decide_before=("3h",))
    with Store(db_path) as store:
        fill(store)
        export_parquet(store, tmp_path, now=DAY2)              # day 1 sealed, day 2 live only
        live = run_backtest(store, anything).bets
    view = run_backtest(connect(tmp_path, live_db=db_path), anything).bets
    assert len(live) == 2
    assert view[["game_id", "book", "side", "price"]].astype(object).equals(
        live[["game_id", "book", "side", "price"]].astype(object))
