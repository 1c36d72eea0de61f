"""The props view: one row per player-market from many books' quotes (pure functions)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from propsage.domain import EventKind, LiveEvent
from propsage.ui.alerts import describe, render_items
from propsage.ui.history import current_points, main_line_history
from propsage.ui.props import Filters, filter_mask, line_moves, present, sort_keys, summarize

T = pd.Timestamp("2025-11-20T18:00:00Z")


def offers(rows: list[tuple], **extra) -> pd.DataFrame:
    """prop_offers-like rows: (book, line, over, under[, suspended])."""
    recs = []
    for r in rows:
        book, line, over, under, *rest = r
        recs.append({"game_id": "g1", "league": "nfl", "player_id": "p1",
                     "player_name": "Pat Doe", "market": "player_pass_yds", "book": book,
                     "line_numeric": line, "over_price": over, "under_price": under,
                     "is_live": True, "is_suspended": bool(rest and rest[0]),
                     "is_active": True, "last_updated": T, **extra})
    return pd.DataFrame(recs)


BOOKS = [("a", 24.5, -110, -110), ("b", 23.5, -120, 100), ("c", 24.5, 100, -120, True),
         ("d", 25.5, 120, -140)]


def test_best_over_is_the_lowest_line_and_best_under_the_highest_among_open_quotes():
    row = summarize(offers(BOOKS)).iloc[0]
    assert (row.over_line, row.over_price, row.over_book) == (23.5, -120, "b")
    assert (row.under_line, row.under_price, row.under_book) == (25.5, -140, "d")


def test_at_the_same_line_the_better_price_wins():
    row = summarize(offers([("a", 24.5, -115, -105), ("b", 24.5, -105, -115)])).iloc[0]
    assert (row.over_price, row.over_book, row.under_price, row.under_book) == \
        (-105, "b", -105, "a")


def test_consensus_is_the_median_of_each_books_main_line_not_of_its_alternates():
    alt = [("a", 21.5, -250, 190), ("a", 27.5, 180, -230)]
    assert summarize(offers(BOOKS)).iloc[0].consensus == 24.5
    row = summarize(offers(BOOKS + alt)).iloc[0]
    assert row.consensus == 24.5
    assert row.n_books == 4
    assert (row.over_line, row.over_book) == (21.5, "a")


def test_spreads_favour_the_higher_home_point_for_home_and_the_lower_for_away():
    df = offers([("a", -3.5, -110, -110), ("b", -2.5, -120, 100)]).assign(
        market="spreads", player_id="", player_name="")
    row = summarize(df).iloc[0]
    assert (row.over_line, row.over_book) == (-2.5, "b")
    assert (row.under_line, row.under_book) == (-3.5, "a")


def test_inactive_offers_are_ignored_and_an_all_suspended_market_is_flagged():
    df = offers([("a", 24.5, -110, -110, True), ("b", 30.5, -110, -110)])
    df.loc[1, "is_active"] = False
    row = summarize(df).iloc[0]
    assert row.is_suspended and row.n_books == 1 and np.isnan(row.over_price)


def test_model_columns_are_nan_until_pricing_fills_them_then_best_edge_and_ev_win():
    assert np.isnan(summarize(offers(BOOKS)).iloc[0].edge)
    priced = offers(BOOKS).assign(edge=[0.01, 0.03, -0.02, np.nan], ev=[0.02, 0.05, -0.1, 0.0],
                                  fair_line=25.0, confidence_score=0.7)
    row = summarize(priced).iloc[0]
    assert (row.edge, row.ev, row.fair_line, row.confidence) == (0.03, 0.05, 25.0, 0.7)


def props_frame() -> pd.DataFrame:
    a = offers(BOOKS).assign(edge=0.04)
    b = offers(BOOKS).assign(player_id="p2", player_name="Sam Roe", edge=np.nan, is_live=False)
    c = offers(BOOKS).assign(player_id="p3", player_name="Ann Poe", edge=-0.01)
    return summarize(pd.concat([a, b, c], ignore_index=True))


def test_min_edge_keeps_props_at_or_above_it_and_drops_unpriced_ones():
    p = props_frame()
    assert p[filter_mask(p, Filters(min_edge=4.0))]["player_name"].tolist() == ["Pat Doe"]
    assert filter_mask(p, Filters(min_edge=0.0)).all()


def test_player_search_is_a_case_insensitive_substring_and_live_only_drops_pregame():
    p = props_frame()
    assert p[filter_mask(p, Filters(player="OE"))]["player_name"].tolist() == \
        ["Pat Doe", "Sam Roe", "Ann Poe"]
    assert p[filter_mask(p, Filters(player="sam"))]["player_name"].tolist() == ["Sam Roe"]
    assert "Sam Roe" not in p[filter_mask(p, Filters(live_only=True))]["player_name"].tolist()


def test_sorting_by_edge_puts_the_biggest_first_and_unpriced_last():
    p = props_frame()
    assert [p.at[k, "player_name"] for k in sort_keys(p, "Edge")] == \
        ["Pat Doe", "Ann Poe", "Sam Roe"]


def test_edges_render_green_when_positive_red_when_negative_and_a_dash_when_unknown():
    p = props_frame()
    shown = present(p).set_index(p["player_name"].to_numpy())
    assert "#1a7f37" in shown.at["Pat Doe", "edge"] and "+4.0%" in shown.at["Pat Doe", "edge"]
    assert "#cf222e" in shown.at["Ann Poe", "edge"] and "-1.0%" in shown.at["Ann Poe", "edge"]
    assert "–" in shown.at["Sam Roe", "edge"] and shown.at["Sam Roe", "fair"] == "–"


def test_a_moved_line_renders_its_arrow_and_game_markets_show_the_matchup():
    p = props_frame()
    key = p.index[0]
    shown = present(p, moves={key: -1}, games={"g1": "Away @ Home"})
    assert "▼" in shown.at[0, "line"] and "▲" not in shown.at[1, "line"]
    game = summarize(offers(BOOKS).assign(player_id="", player_name="", market="totals"))
    assert present(game, games={"g1": "Away @ Home"}).at[0, "player"] == "Away @ Home"


def test_line_moves_report_the_direction_of_each_consensus_change():
    before = summarize(offers(BOOKS))
    after = summarize(offers([(b, line + 1, o, u, *r) for b, line, o, u, *r in BOOKS]))
    assert line_moves(before, after) == {before.index[0]: 1}
    assert line_moves(before, before) == {}


def snaps(rows: list[tuple]) -> pd.DataFrame:
    """odds_snapshots-like rows: (offer, book, minute, line, over, under, active)."""
    return pd.DataFrame([{
        "prop_offer_id": o, "book": b, "fetched_at": T + pd.Timedelta(minutes=m),
        "line_numeric": line, "over_price": ov, "under_price": un, "is_active": act,
        "fair_line": np.nan} for o, b, m, line, ov, un, act in rows])


def test_the_history_follows_each_books_main_line_through_alternates_and_withdrawals():
    h = main_line_history(snaps([
        ("x1", "a", 0, 24.5, -110, -110, True),
        ("x2", "a", 0, 21.5, -250, 190, True),     # an alternate: not the main line
        ("x2", "a", 1, 21.5, -260, 200, True),     # the alternate moves: no new point
        ("x1", "a", 2, 24.5, -110, -110, False),   # main line withdrawn
        ("x3", "a", 2, 25.5, -105, -115, True),    # new main line
    ]))
    assert h["line"].tolist() == [24.5, 25.5]
    assert h["t"].tolist() == [T, T + pd.Timedelta(minutes=2)]
    assert abs(h["prob"].iloc[0] - 0.5) < 1e-12


def test_current_points_give_one_point_per_book():
    pts = current_points(offers(BOOKS), T)
    assert pts["book"].tolist() == ["a", "b", "c", "d"]
    assert pts.set_index("book").at["b", "line"] == 23.5


def test_analytics_findings_become_feed_items_whatever_their_container():
    steam = LiveEvent(EventKind.STEAM, "g1", "nfl", {
        "player_id": "p1", "market": "player_pass_yds", "direction": "up", "from_line": 24.5,
        "to_line": 25.5, "n_books": 4, "book": "draftkings"}, T.to_pydatetime())
    arbs = LiveEvent(EventKind.ARBITRAGE, "g1", "nfl", pd.DataFrame([
        {"player_id": "p1", "market": "player_pass_yds", "line": 24.5, "return_pct": 0.012,
         "books": ["draftkings", "fanduel"]}]), T.to_pydatetime())
    s = describe(steam, {"p1": "Pat Doe"})[0]
    a = describe(arbs)[0]
    assert s["key"] == "g1|p1|player_pass_yds" and "Pat Doe" in s["html"]
    assert "24.5 → 25.5" in s["html"] and "DK" in s["html"]
    assert "+1.20%" in a["html"] and "DK, FD" in a["html"]
    assert "ARB" in render_items([a], "none") and "none" in render_items([], "none")


def test_ties_go_to_the_first_book_by_name_whatever_the_row_order():
    tie = [("mgm", 24.5, -110, -110), ("czr", 24.5, -110, -110)]
    for rows in (tie, tie[::-1]):
        row = summarize(offers(rows)).iloc[0]
        assert (row.over_book, row.under_book) == ("czr", "czr")
