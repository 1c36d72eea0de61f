"""Analytics run inside ingest: results stored, live events published, priced comparisons."""

from __future__ import annotations

import numpy as np
import pandas as pd

from propsage.analytics.persist import PricedProb, make_analyzer
from propsage.domain import EventKind, as_offer_frame
from propsage.ingest import Ingestor
from propsage.pricing import make_pricer
from propsage.providers.mock import MockDataProvider

NOW = pd.Timestamp("2025-11-23T18:00:00Z")


def run(store, bus, polls=8):
    p = MockDataProvider(("nfl", "nba"), n_games=6, seed=3, now=NOW, steam_rate=0.5)
    store.write_results(p.history())
    pricer = make_pricer(store)
    analyzer = make_analyzer(store, pricer)
    ing = Ingestor(p, store, bus, pricer=pricer, analyzers=[analyzer])
    got = []
    bus.subscribe("all", got.append)
    for _ in range(polls):
        ing.poll("all")
        p.advance(pd.Timedelta(seconds=30))
    return analyzer, got


def test_consensus_of_every_polled_player_market_is_stored(store, bus):
    run(store, bus, polls=2)
    groups = store.query("SELECT count(DISTINCT (game_id, player_id, market)) AS n FROM prop_offers")
    assert store.count("market_consensus") == groups["n"].iloc[0]


def test_steam_found_by_the_engine_is_stored_and_published(store, bus):
    analyzer, got = run(store, bus)
    steam_events = [e for e in got if e.kind == EventKind.STEAM]
    assert steam_events, "a high steam rate over 8 polls must produce steam"
    stored = store.query("SELECT steam_id, n_books FROM steam_moves")
    published = {sid for e in steam_events for sid in e.data["steam_id"]}
    assert published <= set(stored["steam_id"])
    assert (stored["n_books"] >= 3).all()


def test_opened_arbitrage_windows_are_stored_with_their_detection_time(store, bus):
    analyzer, got = run(store, bus)
    arb_events = [e for e in got if e.kind == EventKind.ARBITRAGE]
    arbs = store.query("SELECT * FROM arbitrage_windows")
    assert len(arbs) == sum(len(e.data) for e in arb_events)
    assert arbs["detected_at"].notna().all()


def test_priced_prob_reads_the_pricing_distribution_for_player_markets(store, bus):
    analyzer, _ = run(store, bus, polls=1)
    pricer = analyzer.engine.prob_fn.pricer
    offers = pricer.board.offers
    row = offers[(offers["player_id"] != "") & offers["line"].notna()
                 & (offers["model"] != "bernoulli")].iloc[0]
    anchors = pd.DataFrame({"market": [row.market], "league": [row.league],
                            "game_id": [row.game_id], "player_id": [row.player_id],
                            "line": [row.line], "prob": [0.5]})
    p = PricedProb(pricer)(anchors, np.array([row.line]))
    assert p[0] == row.fair_over_prob


def test_missing_flags_in_records_default_to_false():
    f = as_offer_frame([
        {"game_id": "g", "player_name": "A", "market": "m", "book": "b", "line": 1.5,
         "over_price": -110.0, "under_price": -110.0, "is_suspended": True},
        {"game_id": "g", "player_name": "B", "market": "m", "book": "b", "line": 1.5,
         "over_price": -110.0, "under_price": -110.0},
    ])
    assert f["is_suspended"].tolist() == [True, False]
    assert f["is_live"].tolist() == [False, False]
