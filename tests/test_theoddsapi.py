"""The Odds API provider over real HTTP against the local fixture server (real NFL captures)."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx
import pytest

from propsage.bus import EventBus
from propsage.config import load_settings
from propsage.fixture_server import LINES, PROPS, FixtureServer
from propsage.ingest import Ingestor
from propsage.paths import REPO
from propsage.providers.base import ProviderError
from propsage.providers.theoddsapi import TheOddsAPIProvider
from propsage.store import Store

FIXTURES = Path(__file__).parent / "fixtures"
LINES_FILE = FIXTURES / "nfl_odds_2025wk12_excerpt.jsonl.gz"
PROPS_FILE = FIXTURES / "nfl_props_synthetic.jsonl"
BOOKS = ("draftkings", "fanduel", "betrivers", "williamhill_us")
KC = "8b39d8dc550ced94f9faa91878ebf6b6"


@pytest.fixture
def server():
    with FixtureServer([LINES_FILE, PROPS_FILE]) as srv:
        yield srv


def provider_for(server: FixtureServer, **kw: object) -> TheOddsAPIProvider:
    opts: dict = dict(base_url=server.url, leagues=("nfl",), bookmakers=BOOKS, lines_ttl=0,
                      rate_per_second=1000, max_retries=0)
    opts.update(kw)
    return TheOddsAPIProvider("test-key", **opts)


def expected_counts() -> Counter:
    """Offers per (market, book) in the first served responses, counted from the raw JSON."""
    with gzip.open(LINES_FILE, "rt") as fh:
        lines = json.loads(fh.readline())["data"]
    props = json.loads(PROPS_FILE.read_text().splitlines()[0])["data"]
    n: Counter = Counter()
    for event in lines:
        for b in event["bookmakers"]:
            if b["key"] in BOOKS:
                for m in b["markets"]:
                    n[(m["key"], b["key"])] += 1            # one line per game market
    for b in props["bookmakers"]:
        for m in b["markets"]:
            n[(m["key"], b["key"])] += len({(o["description"], o.get("point"))
                                            for o in m["outcomes"]})
    return n


def test_cli_ingest_once_stores_exactly_the_served_offers(server, tmp_path):
    db = tmp_path / "cli.duckdb"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROPSAGE_")}
    env.update({"PROPSAGE_ODDS_API_KEY": "test-key", "PROPSAGE_ODDS_API_BASE_URL": server.url,
                "PROPSAGE_DB": str(db), "PROPSAGE_LEAGUES": "nfl",
                "PROPSAGE_BOOKS": "draftkings,fanduel,betrivers,caesars"})
    done = subprocess.run([sys.executable, "-m", "propsage.cli", "ingest", "--provider",
                           "theoddsapi", "--once"], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "polled 3 games" in done.stdout and "0 rejected, 0 failed" in done.stdout
    assert "test-key" not in done.stdout + done.stderr
    with Store(db) as store:
        got = store.query("SELECT market, book, count(*) AS n FROM prop_offers WHERE is_active "
                          "GROUP BY ALL")
        snaps = store.count("odds_snapshots")
        stale = store.query("SELECT count(*) AS n FROM games_live WHERE is_stale")["n"].iloc[0]
    counts = Counter({(m, b): int(n) for m, b, n in got.itertuples(index=False)})
    expected = expected_counts()
    assert counts == expected
    assert sum(expected.values()) == 60 and snaps == 60 and stale == 0
    assert {m for m, _ in expected} == {"h2h", "spreads", "totals", "player_pass_yds",
                                        "player_rush_yds", "player_receptions",
                                        "player_reception_yds", "player_anytime_td"}


def test_requests_split_featured_and_prop_markets_with_the_documented_params(server):
    provider = provider_for(server)
    games = provider.get_games()
    provider.get_offers(KC)
    lines = [q for p, q, _ in server.requests if re.search(LINES, p)]
    props = [q for p, q, _ in server.requests if re.search(PROPS, p)]
    assert lines == [{"oddsFormat": "american", "dateFormat": "iso",
                      "bookmakers": ",".join(BOOKS), "markets": "h2h,spreads,totals"}]
    assert props[0]["markets"] == ("player_pass_yds,player_pass_tds,player_rush_yds,"
                                   "player_rush_tds,player_receptions,player_reception_yds,"
                                   "player_anytime_td")
    assert {g.id for g in games} == {KC, "1a8f3d70399a5cad83c95196795ed77b",
                                     "0ff4e68cf39cc57ca7cf1276e4a44d2f"}
    provider.close()


def test_regions_are_sent_when_no_bookmakers_are_configured(server):
    provider = provider_for(server, bookmakers=(), regions=("us", "us2"))
    provider.get_games()
    q = [q for p, q, _ in server.requests if re.search(LINES, p)][0]
    assert q["regions"] == "us,us2" and "bookmakers" not in q
    provider.close()


def test_quota_headers_reach_provider_health(server):
    provider = provider_for(server, scores_ttl=3600)
    provider.get_games()
    provider.get_offers(KC)
    h = provider.health
    assert (h.requests_remaining, h.requests_used) == (server.remaining, server.used)
    assert h.requests_last == 5            # KC's props: 5 markets returned x 1 region unit
    assert server.used == 3 + 2 + 5        # /odds 3 markets, /scores?daysFrom 2, props 5
    provider.close()


def test_prop_calls_of_many_games_run_concurrently_on_one_pooled_client(tmp_path):
    with FixtureServer([LINES_FILE, PROPS_FILE], latency=0.1) as srv:
        provider = provider_for(srv, pool_size=4)
        calls = []
        acquire = provider.limiter.acquire
        provider.limiter.acquire = lambda *a, **k: calls.append(1) or acquire(*a, **k)
        store = Store(tmp_path / "c.duckdb")
        ingest = Ingestor(provider, store, EventBus(), workers=4)
        ingest.poll("all")
        ingest.poll("all")
        n_requests = len(srv.requests)
        assert srv.max_in_flight >= 2                   # the 3 prop calls overlapped
        assert len(calls) == n_requests                 # every request went through the bucket
        assert srv.connections <= 4 < n_requests        # keep-alive connections were reused
        store.close()
        provider.close()


def test_unknown_event_is_a_non_retryable_error(server):
    provider = provider_for(server)
    provider.get_games()
    provider._games["nope"] = provider._games[KC]
    provider._sport_of["nope"] = "americanfootball_nfl"
    provider._lines["americanfootball_nfl"].pop("nope", None)
    with pytest.raises(ProviderError) as err:
        provider.get_offers("nope")
    assert err.value.status == 404 and not err.value.retryable
    assert "EVENT_NOT_FOUND" in str(err.value)
    provider.close()


def test_from_settings_maps_books_markets_and_the_secret_key():
    settings = load_settings({"PROPSAGE_PROVIDER": "theoddsapi", "THE_ODDS_API_KEY": "k-123",
                              "PROPSAGE_ODDS_API_BASE_URL": "http://127.0.0.1:9/v4",
                              "PROPSAGE_LEAGUES": "nba", "PROPSAGE_BOOKS": "caesars,fanduel",
                              "PROPSAGE_QUOTA_FLOOR": "250"}, env_file=None)
    provider = TheOddsAPIProvider.from_settings(settings)
    assert provider.base_url == "http://127.0.0.1:9/v4" and provider._key == "k-123"
    assert provider.bookmakers == ("williamhill_us", "fanduel")
    assert provider.line_markets["basketball_nba"] == ["h2h", "spreads", "totals"]
    assert "player_points" in provider.prop_markets["basketball_nba"]
    assert provider.budget.quota_floor == 250
    provider.close()


def test_an_empty_key_is_refused_up_front():
    with pytest.raises(ValueError, match="PROPSAGE_ODDS_API_KEY"):
        TheOddsAPIProvider("")


def test_serve_fixture_cli_serves_captures_with_faults_and_controls():
    proc = subprocess.Popen(
        [sys.executable, "-m", "propsage.cli", "serve-fixture", "--captures", str(FIXTURES),
         "--port", "0", "--fault", r"500:/odds$:1"],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("PROPSAGE_")})
    try:
        url = re.search(r"at (http://\S+/v4)", proc.stdout.readline()).group(1)
        with httpx.Client(base_url=url, timeout=5) as client:
            assert client.get("/sports", params={"apiKey": "nope"}).status_code == 401
            odds = "/sports/americanfootball_nfl/odds"
            assert client.get(odds, params={"apiKey": "test-key"}).status_code == 500
            ok = client.get(odds, params={"apiKey": "test-key", "markets": "h2h,totals"})
            assert ok.status_code == 200 and len(ok.json()) == 3
            assert ok.headers["x-requests-last"] == "2"
            assert client.get(url.replace("/v4", "/_fixture/advance")).json()["index"] == 1
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
