"""BoardPricer: the callable ingest uses, with priors from the store's results table."""

from __future__ import annotations

import pandas as pd
import pytest

from propsage.domain import as_offer_frame
from propsage.loaders import load_sample
from propsage.pricing import BoardPricer, make_pricer

T = pd.Timestamp("2025-02-01T18:00Z")


def _batch(at=T):
    return as_offer_frame([{"game_id": "g1", "league": "nba", "player_name": "Avery Calloway",
                            "market": "player_points", "book": b, "line": 23.5,
                            "over_price": -110.0, "under_price": -110.0, "fetched_at": at}
                           for b in ("dk", "fd")])


def test_priors_come_from_the_stores_results_and_refresh_hourly(store):
    players, results = load_sample()
    store.write_players(players)
    store.write_results(results)
    calls = []

    def load():
        calls.append(1)
        return store.query("SELECT * FROM results")

    pricer = BoardPricer(load_results=load)
    first = pricer(_batch())
    pricer(_batch(T + pd.Timedelta(minutes=30)))
    pricer(_batch(T + pd.Timedelta(minutes=61)))
    assert len(calls) == 2
    assert first["fair_source"].iloc[0] == "blend"
    assert pricer.board is not None and len(pricer.board.player_markets) == 1


def test_priced_batches_store_their_model_columns(store):
    pricer = BoardPricer(load_results=lambda: load_sample().results)
    store.apply_offers(pricer(_batch()), now=T)
    row = store.query("SELECT fair_over_prob, fair_line, edge, ev, kelly, confidence_score "
                      "FROM prop_offers").iloc[0]
    assert 0 < row["fair_over_prob"] < 1 and row["fair_line"] > 0
    assert row[["edge", "ev", "kelly", "confidence_score"]].notna().all()


def test_make_pricer_reads_the_store_and_its_movements(store):
    store.write_results(load_sample().results)
    pricer = make_pricer(store)
    first = pricer(_batch())
    store.apply_offers(first, now=T)
    moved = _batch(T + pd.Timedelta(minutes=5))
    moved["line"] = 25.5                    # both books move the main line by 2 points
    store.apply_offers(pricer(moved), now=T + pd.Timedelta(minutes=5))
    later = pricer(_batch(T + pd.Timedelta(minutes=10)))
    assert first["fair_source"].iloc[0] == "blend"
    assert later["confidence_score"].iloc[0] == pytest.approx(
        first["confidence_score"].iloc[0] - 2 * 0.05)
