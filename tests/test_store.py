"""The DuckDB store: migrations, snapshots only on change, idempotency, point-in-time reads."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from propsage.domain import as_offer_frame
from propsage.store import Store

T0 = pd.Timestamp("2025-11-20T18:00:00Z")


def quotes(rows, at=T0):
    """An offer frame from (player, book, line, over, under) tuples for one game/market."""
    return as_offer_frame([
        {"game_id": "g1", "league": "nfl", "player_name": p, "market": "player_rush_yds",
         "book": b, "line": line, "over_price": o, "under_price": u, "fetched_at": at,
         "book_last_update": at}
        for p, b, line, o, u in rows
    ])


BASE = [("Derrick Henry", "draftkings", 85.5, -115, -105),
        ("Derrick Henry", "fanduel", 85.5, -110, -110),
        ("Saquon Barkley", "draftkings", 92.5, -110, -110)]


def test_migrations_are_applied_once_on_open(db_path):
    from propsage.store import _migrations

    versions = [v for v, _ in _migrations()]
    Store(db_path).close()
    s = Store(db_path)
    assert s.schema_version == max(versions)
    applied = s.query("SELECT version FROM schema_version ORDER BY version")["version"].tolist()
    assert applied == versions
    s.close()


def test_first_batch_stores_one_snapshot_per_quote(store):
    changes = store.apply_offers(quotes(BASE), now=T0)
    assert changes.n_snapshots == 3
    assert store.count("odds_snapshots") == 3
    assert store.count("prop_offers") == 3


def test_same_batch_twice_changes_nothing(store):
    store.apply_offers(quotes(BASE), now=T0)
    again = store.apply_offers(quotes(BASE, T0 + pd.Timedelta(seconds=5)),
                               now=T0 + pd.Timedelta(seconds=5))
    assert again.empty
    assert store.count("odds_snapshots") == 3


def test_only_the_changed_quote_adds_a_snapshot(store):
    store.apply_offers(quotes(BASE), now=T0)
    moved = [*BASE[:2], ("Saquon Barkley", "draftkings", 92.5, -125, +105)]
    changes = store.apply_offers(quotes(moved, T0 + pd.Timedelta(minutes=1)),
                                 now=T0 + pd.Timedelta(minutes=1))
    assert changes.n_snapshots == 1
    assert store.count("odds_snapshots") == 4
    row = store.current_board().query("player_id == 'saquon-barkley'").iloc[0]
    assert (row.over_price, row.under_price) == (-125, 105)


def test_state_survives_reopen_so_no_duplicate_snapshots(db_path):
    s = Store(db_path)
    s.apply_offers(quotes(BASE), now=T0)
    s.close()
    s = Store(db_path)
    assert s.apply_offers(quotes(BASE), now=T0 + pd.Timedelta(seconds=5)).empty
    assert s.count("odds_snapshots") == 3
    s.close()


def test_line_move_is_a_new_offer_and_withdraws_the_old_line(store):
    store.apply_offers(quotes(BASE), now=T0)
    t1 = T0 + pd.Timedelta(minutes=10)
    moved = [("Derrick Henry", "draftkings", 87.5, -110, -110), *BASE[1:]]
    changes = store.apply_offers(quotes(moved, t1), now=t1)
    assert len(changes.changed) == 1 and len(changes.withdrawn) == 1
    board = store.current_board()
    dk = board.query("player_id == 'derrick-henry' and book == 'draftkings'")
    assert dk["line_numeric"].tolist() == [87.5]
    everything = store.current_board(active_only=False)
    assert len(everything) == 4


def test_main_line_move_is_recorded_with_velocity(store):
    store.apply_offers(quotes(BASE), now=T0)
    t1 = T0 + pd.Timedelta(minutes=10)
    moved = [("Derrick Henry", "draftkings", 87.5, -110, -110), *BASE[1:]]
    store.apply_offers(quotes(moved, t1), now=t1)
    mv = store.movements()
    assert len(mv) == 1
    m = mv.iloc[0]
    assert (m.kind, m.from_line, m.to_line, m.movement_size) == ("line", 85.5, 87.5, 2.0)
    assert m.velocity == pytest.approx(2.0 / 10.0)  # points per minute since the last change


def test_price_only_move_is_recorded_with_no_vig_change(store):
    store.apply_offers(quotes(BASE), now=T0)
    t1 = T0 + pd.Timedelta(minutes=2)
    juiced = [("Derrick Henry", "draftkings", 85.5, -135, +115), *BASE[1:]]
    store.apply_offers(quotes(juiced, t1), now=t1)
    m = store.movements().iloc[0]
    assert m.kind == "price" and m.movement_size == 0
    # multiplicative no-vig of -115/-105 and -135/+115 (hand-computed)
    assert m.from_prob == pytest.approx(0.5108342, abs=1e-6)
    assert m.to_prob == pytest.approx(0.5525940, abs=1e-6)


def test_alternate_lines_of_one_book_are_separate_offers_and_main_line_is_the_balanced_one(store):
    ladder = [("Derrick Henry", "draftkings", 75.5, -250, +190),
              ("Derrick Henry", "draftkings", 85.5, -110, -110),
              ("Derrick Henry", "draftkings", 95.5, +200, -260)]
    store.apply_offers(quotes(ladder), now=T0)
    assert store.count("prop_offers") == 3
    t1 = T0 + pd.Timedelta(minutes=1)
    ladder[0] = ("Derrick Henry", "draftkings", 75.5, -260, +200)  # an alternate re-priced
    store.apply_offers(quotes(ladder, t1), now=t1)
    assert store.count("odds_snapshots") == 4
    assert store.movements().empty  # the main line (85.5) did not move


def test_invalid_quotes_are_rejected_counted_and_not_stored(store):
    bad = quotes(BASE)
    bad.loc[0, "over_price"] = 50.0          # inside (-100, +100): impossible American odds
    bad.loc[1, "line"] = np.nan              # a player yardage prop needs a point
    changes = store.apply_offers(bad, now=T0)
    assert len(changes.rejected) == 2
    assert store.count("prop_offers") == 1
    assert store.count("rejected_quotes") == 2
    reasons = set(store.query("SELECT reason FROM rejected_quotes")["reason"])
    assert any("American" in r for r in reasons) and any("line" in r for r in reasons)


def test_one_sided_quote_is_kept(store):
    td = as_offer_frame([{"game_id": "g1", "player_name": "Derrick Henry",
                          "market": "player_anytime_td", "book": "fanduel", "line": np.nan,
                          "over_price": -150.0, "under_price": np.nan, "fetched_at": T0}])
    store.apply_offers(td, now=T0)
    row = store.current_board().iloc[0]
    assert row.over_price == -150 and pd.isna(row.under_price) and pd.isna(row.line_numeric)


def test_board_as_of_returns_exactly_what_was_known_then(store):
    store.apply_offers(quotes(BASE), now=T0)
    t1 = T0 + pd.Timedelta(minutes=5)
    moved = [("Derrick Henry", "draftkings", 87.5, -110, -110), *BASE[1:]]
    store.apply_offers(quotes(moved, t1), now=t1)
    before = store.board_as_of(T0 + pd.Timedelta(minutes=4))
    after = store.board_as_of(t1)
    dk = "player_id == 'derrick-henry' and book == 'draftkings'"
    assert before.query(dk)["line_numeric"].tolist() == [85.5]
    assert after.query(dk)["line_numeric"].tolist() == [87.5]
    assert store.board_as_of(T0 - pd.Timedelta(seconds=1)).empty


def test_offer_history_lists_each_change_in_order(store):
    store.apply_offers(quotes(BASE), now=T0)
    for i, price in enumerate((-120, -125), start=1):
        t = T0 + pd.Timedelta(minutes=i)
        store.apply_offers(quotes([(*BASE[0][:3], price, -105), *BASE[1:]], t), now=t)
    oid = store.current_board().query("book == 'draftkings' and player_id == 'derrick-henry'")["id"].iloc[0]
    hist = store.offer_history(oid)
    assert hist["over_price"].tolist() == [-115, -120, -125]


def test_a_failed_write_leaves_store_and_state_unchanged(store, monkeypatch):
    store.apply_offers(quotes(BASE), now=T0)
    t1 = T0 + pd.Timedelta(minutes=1)
    moved = [("Derrick Henry", "draftkings", 85.5, -140, +120), *BASE[1:]]

    def boom(*a, **k):
        raise duckdb.IOException("disk full")

    monkeypatch.setattr(store, "_write", boom)
    with pytest.raises(duckdb.IOException):
        store.apply_offers(quotes(moved, t1), now=t1)
    monkeypatch.undo()
    assert store.count("odds_snapshots") == 3
    # the change is detected again on the next poll, not lost
    assert store.apply_offers(quotes(moved, t1), now=t1).n_snapshots == 1


def test_results_upsert_by_game_player_market(store):
    res = pd.DataFrame({"game_id": ["g1", "g1"], "player_id": ["derrick-henry"] * 2,
                        "market": ["player_rush_yds"] * 2, "value": [80.0, 91.0],
                        "game_date": ["2025-11-20"] * 2})
    assert store.write_results(res) == 1
    assert store.query("SELECT value FROM results")["value"].tolist() == [91.0]
