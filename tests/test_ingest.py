"""Ingest: polls store batches and publish events; the real scheduler runs the jobs."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pandas as pd
import pytest

from propsage.domain import EventKind, GameStatus
from propsage.ingest import Ingestor, select_games
from propsage.providers.base import ProviderError
from propsage.providers.mock import MockDataProvider
from propsage.store import Store

NOW = pd.Timestamp("2025-11-23T18:00:00Z")


def make(store, bus, **kw):
    p = MockDataProvider(("nfl", "nba"), n_games=6, seed=5, now=NOW)
    return p, Ingestor(p, store, bus, max_games=kw.pop("max_games", 10), **kw)


def test_a_poll_stores_games_offers_and_snapshots(store, bus):
    p, ing = make(store, bus)
    report = ing.poll("all")
    assert report.games > 0 and report.quotes > 0
    assert store.count("games_live") == 6
    assert store.count("prop_offers") == report.quotes
    assert store.count("odds_snapshots") == report.snapshots == report.quotes


def test_a_poll_publishes_odds_updates_per_game(store, bus):
    p, ing = make(store, bus)
    got = []
    bus.subscribe("all", got.append)
    report = ing.poll("all")
    updates = [e for e in got if e.kind == EventKind.ODDS_UPDATE]
    assert {e.game_id for e in updates} == set(report.polled)
    assert sum(len(e.data) for e in updates) == report.quotes
    assert any(e.kind == EventKind.GAME_STATE for e in got)


def test_live_window_polls_only_live_games(store, bus):
    p, ing = make(store, bus)
    report = ing.poll("live")
    live = {g.id for g in p.get_games() if g.status == GameStatus.LIVE}
    assert set(report.polled) == live


def test_max_games_caps_a_poll_live_first(store, bus):
    p, ing = make(store, bus, max_games=2)
    games = p.get_games()
    chosen = select_games(games, "all", p.now(), 2)
    assert len(chosen) == 2
    assert chosen[0].status == GameStatus.LIVE
    assert len(ing.poll("all").polled) == 2


def test_a_provider_failure_keeps_data_marks_games_stale_and_recovers(store, bus):
    p, ing = make(store, bus)
    ing.poll("all")
    stored = store.count("odds_snapshots")
    real = p.get_games

    def down():
        raise ProviderError("connection refused")

    p.get_games = down
    report = ing.poll("all")
    assert report.error == "connection refused"
    assert not p.health.up
    assert store.count("odds_snapshots") == stored
    assert store.games()["is_stale"].all()
    p.get_games = real
    ing.poll("all")
    assert p.health.up
    assert not store.games().query("status != 'final'")["is_stale"].any()


def test_one_failing_game_is_marked_stale_and_the_rest_are_stored(store, bus):
    p, ing = make(store, bus)
    games = [g for g in p.get_games() if g.status != GameStatus.FINAL]
    bad = games[0].id
    real = p.get_offers

    def flaky(gid):
        if gid == bad:
            raise ProviderError("HTTP 500")
        return real(gid)

    p.get_offers = flaky
    report = ing.poll("all")
    assert bad in report.failed and len(report.polled) == len(games) - 1
    stale = store.games().set_index("id")["is_stale"]
    assert stale[bad] and not stale[report.polled].any()


def test_the_real_scheduler_runs_live_polls_on_its_interval(db_path, bus):
    store = Store(db_path)
    p, ing = make(store, bus, live_interval=0.3, pregame_interval=60)
    ing.start()
    try:
        deadline = time.monotonic() + 10
        while ing.polls < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        ing.stop()
        store.close()
    assert ing.polls >= 4
    assert ing.scheduler is None


def test_pricing_stage_output_is_stored_with_each_snapshot(store, bus):
    def pricer(frame):
        return frame.assign(fair_line=frame["line"] + 1.0, edge=0.02)

    p, ing = make(store, bus, pricer=pricer)
    ing.poll("all")
    snaps = store.query("SELECT line_numeric, fair_line, edge FROM odds_snapshots "
                        "WHERE line_numeric IS NOT NULL LIMIT 50")
    assert (snaps["fair_line"] == snaps["line_numeric"] + 1.0).all()
    assert (snaps["edge"] == 0.02).all()


@pytest.mark.timeout(120)
def test_cli_ingest_once_writes_the_db(tmp_path):
    env = {**os.environ, "PROPSAGE_DB": str(tmp_path / "cli.duckdb"), "PROPSAGE_MOCK_GAMES": "4"}
    out = subprocess.run([sys.executable, "-m", "propsage.cli", "ingest", "--once"],
                         capture_output=True, text=True, env=env, timeout=110)
    assert out.returncode == 0, out.stderr
    assert "quotes" in out.stdout
    s = Store(tmp_path / "cli.duckdb", read_only=True)
    assert s.count("prop_offers") > 0
    s.close()


def test_polls_are_counted_in_prometheus_metrics(store, bus):
    from propsage.metrics import REGISTRY

    p, ing = make(store, bus)
    before = REGISTRY.get_sample_value("propsage_polls_total",
                                       {"provider": "mock", "window": "all", "outcome": "ok"}) or 0
    report = ing.poll("all")
    after = REGISTRY.get_sample_value("propsage_polls_total",
                                      {"provider": "mock", "window": "all", "outcome": "ok"})
    assert after == before + 1
    assert REGISTRY.get_sample_value("propsage_provider_up", {"provider": "mock"}) == 1
    assert report.snapshots > 0


def test_a_book_that_pulls_a_market_others_still_quote_has_its_quotes_withdrawn(store, bus):
    p, ing = make(store, bus)
    gid = next(g.id for g in p.get_games()
               if g.status == GameStatus.SCHEDULED and g.league == "nfl")
    real = p.get_offers
    ing.poll("all")

    def pulled(game_id):
        f = real(game_id)
        if game_id != gid:
            return f
        return f[~((f["book"] == "fanduel") & (f["market"] == "player_receptions"))]

    p.get_offers = pulled
    ing.poll("all")
    board = store.current_board(gid)
    assert board.query("book == 'fanduel' and market == 'player_receptions'").empty
    assert not board.query("book == 'draftkings' and market == 'player_receptions'").empty
    gone = store.current_board(gid, active_only=False).query(
        "book == 'fanduel' and market == 'player_receptions'")
    assert len(gone) > 0 and not gone["is_active"].any()


def test_items_the_provider_could_not_parse_are_counted_in_rejected_quotes(store, bus):
    p, ing = make(store, bus)
    p.record_rejects(pd.DataFrame({"game_id": ["g9"], "market": ["player_points"],
                                   "book": ["fanduel"], "player_name": ["Nikola Jokić"],
                                   "reason": ["outcome without price"]}))
    ing.poll("all")
    rej = store.query("SELECT player_id, reason FROM rejected_quotes")
    assert rej.to_dict("records") == [{"player_id": "nikola-jokic",
                                      "reason": "outcome without price"}]
    assert p.health.rejected_quotes == 1
