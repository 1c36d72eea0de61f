"""Replay of recorded Odds API responses on the capture clock; recording them; the real week."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from propsage.bus import EventBus
from propsage.domain import GameStatus
from propsage.fixture_server import FixtureServer
from propsage.ingest import Ingestor
from propsage.paths import REPO
from propsage.providers.replay import Capture, CaptureLog, ReplayProvider, replay_into, ticks
from propsage.providers.theoddsapi import TheOddsAPIProvider
from propsage.record import CaptureWriter
from propsage.store import Store

FIXTURES = Path(__file__).parent / "fixtures"
LINES_FILE = FIXTURES / "nfl_odds_2025wk12_excerpt.jsonl.gz"
PROPS_FILE = FIXTURES / "nfl_props_synthetic.jsonl"
CAPTURES = [LINES_FILE, PROPS_FILE]
TIMES = [pd.Timestamp(t) for t in ("2025-11-23T14:20:52Z", "2025-11-23T14:36:51Z",
                                   "2025-11-23T14:54:33Z", "2025-11-23T15:20:12Z")]
KC = "8b39d8dc550ced94f9faa91878ebf6b6"


def raw_captures() -> list[tuple[pd.Timestamp, list, dict | None]]:
    """(time, featured list, KC props event or None) per capture time, read straight from JSON."""
    with gzip.open(LINES_FILE, "rt") as fh:
        lines = [json.loads(x) for x in fh]
    props = [json.loads(x) for x in PROPS_FILE.read_text().splitlines()]
    out = []
    for rec in lines:
        t = pd.Timestamp(rec["snapshot_time"])
        current = [p["data"] for p in props if pd.Timestamp(p["snapshot_time"]) <= t]
        out.append((t, rec["data"], current[-1] if current else None))
    return out


def raw_quotes(featured: list, props: dict | None) -> dict[tuple, tuple]:
    """Test oracle: (event, book, market, who, point) -> (over/home, under/away) prices."""
    q: dict[tuple, list] = {}
    for event in featured + ([props] if props else []):
        for b in event["bookmakers"]:
            for m in b["markets"]:
                for o in m["outcomes"]:
                    if o["name"] in ("Over", "Yes", "Under", "No"):
                        key = (event["id"], b["key"], m["key"], o.get("description", ""),
                               o.get("point"))
                        side = 0 if o["name"] in ("Over", "Yes") else 1
                    else:   # a team: key on the home point (0 for h2h)
                        home = o["name"] == event["home_team"]
                        point = 0 if m["key"] == "h2h" else (o["point"] if home else -o["point"])
                        key = (event["id"], b["key"], m["key"], "", point)
                        side = 0 if home else 1
                    q.setdefault(key, [None, None])[side] = o["price"]
    return {k: tuple(v) for k, v in q.items()}


def changed_quotes(prev: dict, cur: dict) -> int:
    """New or re-priced quotes, plus quotes gone from a (event, book, market) still quoted."""
    triples = {k[:3] for k in cur}
    new_or_moved = sum(1 for k, v in cur.items() if prev.get(k) != v)
    gone = sum(1 for k in prev if k not in cur and k[:3] in triples)
    return new_or_moved + gone


# -- the clock -----------------------------------------------------------------------------------
def test_held_clock_starts_at_the_first_capture_and_steps_through_them_in_order():
    provider = ReplayProvider(CAPTURES, speed=None)
    seen = [provider.now()]
    while provider.step():
        seen.append(provider.now())
    assert seen == TIMES


def test_finished_only_after_the_last_capture_was_served():
    provider = ReplayProvider(CAPTURES, speed=None)
    while provider.step():
        assert not provider.finished()
    assert not provider.finished()
    provider.get_games()
    assert provider.finished()


def test_accelerated_clock_runs_speed_times_the_wall_clock():
    wall = [100.0]
    provider = ReplayProvider(CAPTURES, speed=60, clock=lambda: wall[0])
    assert provider.now() == TIMES[0]
    wall[0] += 15.0                                      # 15 s of wall time = 15 min of capture
    assert provider.now() == TIMES[0] + pd.Timedelta(minutes=15)
    kc = provider.get_games() and provider.get_offers(KC)
    assert (kc["fetched_at"] == TIMES[0]).all()          # 14:35:52: still the first capture
    wall[0] += 1.0                                       # 14:36:52: the second one is out
    assert (provider.get_offers(KC).query("market == 'h2h'")["fetched_at"] == TIMES[1]).all()


def test_offers_are_the_latest_capture_of_each_kind_at_the_clock():
    provider = ReplayProvider(CAPTURES, speed=None)
    provider.step()                                      # 14:36:51: lines new, props 14:20:52
    provider.get_games()
    offers = provider.get_offers(KC)
    lines = offers[offers["player_id"] == ""]
    props = offers[offers["player_id"] != ""]
    assert (lines["fetched_at"] == TIMES[1]).all() and (props["fetched_at"] == TIMES[0]).all()
    provider.step()                                      # 14:54:33: the second props capture
    offers = provider.get_offers(KC)
    dk = offers[(offers["book"] == "draftkings") & (offers["market"] == "player_pass_yds")
                & (offers["player_name"] == "Patrick Mahomes")]
    assert dk["line"].tolist() == [265.5]


def test_games_are_scheduled_before_kickoff_and_final_once_gone_from_the_list():
    event = {"id": "g1", "sport_key": "americanfootball_nfl", "sport_title": "NFL",
             "commence_time": "2025-11-23T18:00:00Z", "home_team": "H", "away_team": "A",
             "bookmakers": []}
    other = {**event, "id": "g2", "commence_time": "2025-11-24T01:00:00Z"}
    caps = [Capture(pd.Timestamp("2025-11-23T17:00Z"), "odds", "americanfootball_nfl", "",
                    _data=[event, other], _loaded=True),
            Capture(pd.Timestamp("2025-11-23T19:00Z"), "odds", "americanfootball_nfl", "",
                    _data=[event, other], _loaded=True),
            Capture(pd.Timestamp("2025-11-23T22:00Z"), "odds", "americanfootball_nfl", "",
                    _data=[other], _loaded=True)]
    provider = ReplayProvider(CaptureLog(caps), speed=None)
    status = []
    for _ in range(3):
        status.append({g.id: g.status for g in provider.get_games()}["g1"])
        provider.step()
    assert status == [GameStatus.SCHEDULED, GameStatus.LIVE, GameStatus.FINAL]


# -- into the store ------------------------------------------------------------------------------
def test_replay_through_ingest_stores_one_snapshot_per_changed_quote(store):
    provider = ReplayProvider(CAPTURES, speed=None)
    ingest = Ingestor(provider, store, EventBus(), max_games=10)
    raw = raw_captures()
    prev: dict = {}
    for i, (t, featured, props) in enumerate(raw):
        if i:
            assert provider.step()
        report = ingest.poll("all")
        cur = raw_quotes(featured, props)
        assert report.snapshots == changed_quotes(prev, cur), t
        assert report.quotes == len(cur)
        prev = cur
    assert store.count("odds_snapshots") == sum(
        changed_quotes(a, b) for a, b in zip([{}] + [raw_quotes(f, p) for _, f, p in raw[:-1]],
                                             [raw_quotes(f, p) for _, f, p in raw], strict=True))
    # The betrivers 274.5 Mahomes line was pulled in the second props capture: withdrawn.
    gone = store.query("SELECT * FROM prop_offers WHERE book = 'betrivers' AND "
                       "line_numeric = 274.5")
    assert gone["is_active"].tolist() == [False]


def test_replay_into_matches_ingest_on_the_fixture(store):
    stats = replay_into(store, ReplayProvider(CAPTURES, speed=None))
    assert stats.captures == 4 and stats.quotes == sum(len(raw_quotes(f, p))
                                                       for _, f, p in raw_captures())
    assert stats.snapshots == store.count("odds_snapshots")


# -- record and replay ---------------------------------------------------------------------------
def test_recorded_responses_replay_to_the_same_offers_and_never_hold_the_key(tmp_path):
    out = tmp_path / "rec.jsonl.gz"
    live = []
    with FixtureServer(CAPTURES) as srv, CaptureWriter(out) as writer:
        provider = TheOddsAPIProvider("test-key", base_url=srv.url, leagues=("nfl",),
                                      lines_ttl=0, rate_per_second=1000, on_response=writer.write)
        provider.get_games()
        live.append(provider.get_offers(KC))
        srv.advance(2)
        provider.get_games()
        live.append(provider.get_offers(KC))
        provider.close()
    with gzip.open(out, "rt") as fh:
        text = fh.read()
    assert "test-key" not in text and "apiKey" not in text
    records = [json.loads(x) for x in text.splitlines()]
    assert {r["endpoint"] for r in records} >= {
        "/sports/americanfootball_nfl/events", "/sports/americanfootball_nfl/odds",
        f"/sports/americanfootball_nfl/events/{KC}/odds"}
    assert all({"snapshot_time", "params", "status", "quota", "data"} <= set(r) for r in records)
    replay = ReplayProvider(out, speed=None)
    while replay.step():        # the clock ends on the tick of the second recorded poll
        pass
    replay.get_games()
    cols = ["offer_id", "line", "over_price", "under_price", "book_last_update"]
    pd.testing.assert_frame_equal(
        replay.get_offers(KC)[cols].sort_values("offer_id").reset_index(drop=True),
        live[-1][cols].sort_values("offer_id").reset_index(drop=True))


def test_the_responses_of_one_recorded_poll_share_one_clock_tick():
    t = pd.Timestamp("2025-11-23T14:00:00Z")
    times = [t, t + pd.Timedelta("0.3s"), t + pd.Timedelta("1.1s"), t + pd.Timedelta("20min")]
    assert ticks(times, 2.0) == [t + pd.Timedelta("1.1s"), t + pd.Timedelta("20min")]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROPSAGE_")}
    env.update(extra)
    return env


def test_record_cli_saves_every_response_of_a_poll(tmp_path):
    out = tmp_path / "cli.jsonl.gz"
    with FixtureServer(CAPTURES) as srv:
        done = subprocess.run(
            [sys.executable, "-m", "propsage.cli", "record", "--out", str(out), "--polls", "1"],
            env=_env(PROPSAGE_ODDS_API_KEY="test-key", PROPSAGE_ODDS_API_BASE_URL=srv.url,
                     PROPSAGE_DB=str(tmp_path / "rec.duckdb"), PROPSAGE_LEAGUES="nfl"),
            cwd=REPO, capture_output=True, text=True, timeout=120)
        n_requests = len(srv.requests)
    assert done.returncode == 0, done.stderr[-2000:]
    with gzip.open(out, "rt") as fh:
        text = fh.read()
    assert len(text.splitlines()) == n_requests
    assert "test-key" not in text + done.stdout + done.stderr
    assert f"recorded {n_requests} responses" in done.stdout


def test_ingest_cli_replays_a_capture_file_until_finished(tmp_path):
    db = tmp_path / "replay.duckdb"
    done = subprocess.run(
        [sys.executable, "-m", "propsage.cli", "ingest", "--provider", "replay", "--source",
         str(FIXTURES), "--speed", "3600"],
        env=_env(PROPSAGE_DB=str(db), PROPSAGE_LIVE_INTERVAL="0.2",
                 PROPSAGE_PREGAME_INTERVAL="0.2"),
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "replay finished" in done.stdout
    t, featured, props = raw_captures()[-1]
    with Store(db) as store:
        board = store.query("SELECT * FROM prop_offers WHERE is_active")
    assert len(board) == len(raw_quotes(featured, props))


@pytest.mark.realdata
def test_real_nba_prop_files_replay_as_props_only_games(shared):
    provider = ReplayProvider(shared / "odds-api-nba-props", speed=None)
    while provider.step():
        pass
    games = provider.get_games()
    sizes = sorted(len(provider.get_offers(g.id)) for g in games if g.id in (
        "f9f3f99b5124a4ecf984003f0af23d2e", "f54c4a22568ce9dc33fb410d1b0e75e9"))
    assert sizes == [241, 272]


# -- the real NFL week 12 against the collector's own change log ----------------------------------
def assert_one_snapshot_per_change(store: Store) -> None:
    dup = store.query("SELECT prop_offer_id, fetched_at, count(*) n FROM odds_snapshots "
                      "GROUP BY ALL HAVING n > 1")
    assert dup.empty


@pytest.mark.realdata
def test_week12_replay_matches_the_line_changes_of_the_data(shared, tmp_path):
    """One snapshot per changed quote and the csv's line changes, group by group.

    The csv has one row per (event, book, market, outcome) that first appears or changes
    (price or point). Ours is offer-level: a price change at the same line is 1 snapshot (one
    or both sides), a line change is 2 (the new line, and the old one withdrawn), and the
    first sighting of a triple in our window is 1. The csv counts "first" over its whole
    history, so a triple we first see later than the window start has csv rows relative to
    data before our window; rows at our first sighting are therefore not changes for us.
    """
    folder = shared / "odds-api-nfl"
    with gzip.open(folder / "nfl_odds_snapshots_2025wk12.jsonl.gz", "rt") as fh:
        captures = [json.loads(x) for x in fh]
    first_seen: dict[tuple, pd.Timestamp] = {}
    for rec in captures:
        t = pd.Timestamp(rec["snapshot_time"])
        for e in rec["data"]:
            for b in e["bookmakers"]:
                for m in b["markets"]:
                    assert len({o.get("point") for o in m["outcomes"]
                                if o["name"] != e["away_team"]}) == 1   # one line a triple
                    first_seen.setdefault((e["id"], b["key"], m["key"]), t)
    t0, t1 = pd.Timestamp(captures[0]["snapshot_time"]), pd.Timestamp(captures[-1]["snapshot_time"])
    del captures

    store = Store(tmp_path / "week12.duckdb")
    stats = replay_into(store, ReplayProvider(folder / "nfl_odds_snapshots_2025wk12.jsonl.gz",
                                              speed=None))
    snaps = store.query("SELECT fetched_at, game_id, book, market FROM odds_snapshots")
    moves = store.query("SELECT * FROM line_movements")

    lc = pd.read_csv(folder / "nfl_line_changes.csv.gz")
    lc["t"] = pd.to_datetime(lc["snapshot_time"], utc=True)
    lc = lc.sort_values(["event_id", "bookmaker_key", "market_key", "outcome_name", "t"])
    lc["prev_point"] = lc.groupby(["event_id", "bookmaker_key", "market_key",
                                   "outcome_name"])["outcome_point"].shift()
    w = lc[(lc["t"] >= t0) & (lc["t"] <= t1)].copy()
    keys = list(zip(w["event_id"], w["bookmaker_key"], w["market_key"], strict=True))
    w["seen"] = [first_seen.get(k, pd.NaT) for k in keys]
    later = w[w["t"] > w["seen"]].copy()
    defining = (((later["market_key"] == "spreads") & (later["outcome_name"] == later["home_team"]))
                | ((later["market_key"] == "totals") & (later["outcome_name"] == "Over")))
    later["line_change"] = defining & ~np.isclose(later["outcome_point"], later["prev_point"],
                                                  equal_nan=True)
    group = ["t", "event_id", "bookmaker_key", "market_key"]
    changed = later.groupby(group)["line_change"].any()

    expected = (changed.astype(int) + 1).rename("n")
    firsts = pd.Series(1, index=pd.MultiIndex.from_tuples(
        [(t, *k) for k, t in first_seen.items()], names=group), name="n")
    expected = pd.concat([expected, firsts]).groupby(level=[0, 1, 2, 3]).sum()
    ours = snaps.assign(t=pd.to_datetime(snaps["fetched_at"], utc=True)).groupby(
        ["t", "game_id", "book", "market"]).size().rename("n")
    ours.index.names = group
    both = pd.concat([expected.rename("exp"), ours.rename("ours")], axis=1).fillna(0)
    mismatched = both[both["exp"] != both["ours"]]

    csv_lines = {(r.t, r.event_id, r.bookmaker_key, r.market_key, r.prev_point, r.outcome_point)
                 for r in later[later["line_change"]].itertuples()}
    line_moves = moves[moves["kind"] == "line"]
    our_lines = {(pd.Timestamp(r.timestamp), r.game_id, r.book, r.market, r.from_line, r.to_line)
                 for r in line_moves.itertuples()}
    print(f"\nweek 12: {stats.captures} captures, {stats.quotes} quotes, "
          f"{len(snaps)} snapshots (expected {int(expected.sum())}), csv rows in window "
          f"{len(w)}, groups compared {len(both)}, mismatched {len(mismatched)}; "
          f"line moves ours {len(our_lines)} csv {len(csv_lines)}; price moves ours "
          f"{(moves['kind'] == 'price').sum()} csv {int((~changed).sum())}; "
          f"{stats.seconds:.1f}s")
    assert stats.captures == 428
    assert mismatched.empty, mismatched.head(20)
    assert len(snaps) == int(expected.sum())
    assert our_lines == csv_lines and len(line_moves) == len(csv_lines)
    assert (moves["kind"] == "price").sum() == int((~changed).sum())
    assert_one_snapshot_per_change(store)
    store.close()
