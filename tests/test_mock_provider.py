"""The simulated market: deterministic, realistic prices, moving lines, game states."""

from __future__ import annotations

import numpy as np
import pandas as pd

from propsage.domain import GameStatus
from propsage.odds import american_to_decimal
from propsage.providers.mock import MockDataProvider

NOW = pd.Timestamp("2025-11-23T18:00:00Z")


def provider(seed=3, **kw):
    return MockDataProvider(("nfl", "nba"), n_games=6, seed=seed, now=NOW, **kw)


def test_same_seed_gives_the_same_market():
    a, b = provider(), provider()
    ga, gb = a.get_games(), b.get_games()
    assert [g.id for g in ga] == [g.id for g in gb]
    fa = a.get_offers(ga[0].id).drop(columns=["fetched_at", "book_last_update"])
    fb = b.get_offers(gb[0].id).drop(columns=["fetched_at", "book_last_update"])
    pd.testing.assert_frame_equal(fa, fb)


def test_games_cover_leagues_and_states():
    games = provider().get_games()
    assert {g.league for g in games} == {"nfl", "nba"}
    assert any(g.status == GameStatus.LIVE for g in games)
    assert any(g.status == GameStatus.SCHEDULED for g in games)


def test_each_game_has_15_to_25_players_quoted_by_5_books():
    p = provider()
    for g in p.get_games():
        if g.status == GameStatus.FINAL:
            continue
        offers = p.get_offers(g.id)
        players = offers.loc[offers["player_id"] != "", "player_id"].nunique()
        assert 15 <= players <= 25
        assert offers["book"].nunique() == 5


def test_books_hold_between_3_and_9_percent_on_two_way_quotes():
    p = provider()
    g = p.get_games()[1]
    o = p.get_offers(g.id).dropna(subset=["over_price", "under_price"])
    over = 1 / american_to_decimal(o["over_price"].to_numpy())
    under = 1 / american_to_decimal(o["under_price"].to_numpy())
    hold = over + under - 1
    # 4-8 % by construction, widened by rounding prices to 5 cents
    assert 0.02 < np.median(hold) < 0.09


def test_player_lines_sit_on_half_points_and_prices_are_valid_american():
    p = provider()
    o = p.get_offers(p.get_games()[1].id)
    props = o[(o["player_id"] != "") & o["line"].notna()]
    assert ((props["line"] * 2) % 2 == 1).all()
    prices = pd.concat([o["over_price"], o["under_price"]]).dropna()
    assert ((prices <= -100) | (prices >= 100)).all()


def test_prices_random_walk_between_polls():
    p = provider()
    gid = p.get_games()[0].id
    first = p.get_offers(gid)
    later = first
    for _ in range(5):
        later = p.get_offers(gid)
    merged = first.merge(later, on=["player_id", "market", "book"], suffixes=("_a", "_b"))
    moved = (merged["over_price_a"] != merged["over_price_b"]) | (merged["line_a"] != merged["line_b"])
    assert 0 < moved.mean() < 0.9


def test_games_move_from_scheduled_to_live_to_final_on_the_clock():
    p = provider()
    g = next(g for g in p.get_games() if g.status == GameStatus.SCHEDULED)
    p.advance(pd.Timestamp(g.start_time) - p.now() + pd.Timedelta(minutes=30))
    now_live = next(x for x in p.get_games() if x.id == g.id)
    assert now_live.status == GameStatus.LIVE and now_live.clock
    p.advance(pd.Timedelta(hours=5))
    done = next(x for x in p.get_games() if x.id == g.id)
    assert done.status == GameStatus.FINAL
    assert p.get_offers(g.id).empty


def test_history_gives_past_results_for_the_quoted_players():
    p = provider()
    hist = p.history(games_back=8)
    assert set(hist.columns) >= {"game_id", "player_id", "market", "value", "game_date"}
    assert (pd.to_datetime(hist["game_date"]) < NOW.tz_localize(None)).all()
    g = next(g for g in p.get_games() if g.status != GameStatus.FINAL)
    quoted = set(p.get_offers(g.id).query("player_id != ''")["player_id"])
    assert quoted <= set(hist["player_id"])
    pra = hist[hist["market"] == "player_points_rebounds_assists"].set_index(["game_id", "player_id"])["value"]
    parts = hist[hist["market"].isin(["player_points", "player_rebounds", "player_assists"])]
    summed = parts.groupby(["game_id", "player_id"])["value"].sum()
    assert (pra == summed.reindex(pra.index)).all()  # the combo is the sum of its parts


def test_a_player_plays_in_one_game_only():
    p = MockDataProvider(("nfl", "nba", "cfb"), n_games=12, seed=3, now=NOW)
    seen = {}
    for g in p.get_games():
        if g.status == GameStatus.FINAL:
            continue
        for pid in set(p.get_offers(g.id).query("player_id != ''")["player_id"]):
            assert seen.setdefault(pid, g.id) == g.id
