"""Consensus, outliers and best prices: line-aware, and not fooled by bad quotes.

References: scipy.stats closed forms, the committed real excerpt (hand-read), and the real NBA
threes props in ../shared/data (skipped when absent)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm, poisson

from propsage.analytics import (
    best_prices,
    consensus,
    outliers,
    same_line_only,
    screen,
    snapshots_from_line_changes,
)
from propsage.analytics.history import read_line_changes
from propsage.domain import as_offer_frame, normalize_player_id
from propsage.paths import shared_data

EXCERPT = Path(__file__).parent / "fixtures" / "nfl_line_changes_excerpt.csv"
NOW = pd.Timestamp("2025-11-01T18:00:00Z")


def american(p: float, vig: float = 0.0225) -> float:
    """American price of probability p with a proportional margin (independent of the code)."""
    q = p * (1 + vig)
    return -100 * q / (1 - q) if q > 0.5 else 100 * (1 - q) / q


def quote(book: str, line: float, p_over: float, **kw: object) -> dict:
    return {"game_id": "g", "player_id": "p", "market": "player_receptions", "book": book,
            "line": line, "over_price": american(p_over), "under_price": american(1 - p_over),
            "fetched_at": NOW, "book_last_update": NOW, "is_live": False, **kw}


@lru_cache(maxsize=1)
def _snaps() -> pd.DataFrame:
    return snapshots_from_line_changes(read_line_changes(str(EXCERPT)))


def board_at(ts: str) -> pd.DataFrame:
    """What was on the board at ``ts``: each offer's last snapshot, if still active."""
    s = _snaps()
    s = s[s["fetched_at"] <= pd.Timestamp(ts)].sort_values("fetched_at", kind="stable")
    last = s.groupby("prop_offer_id").tail(1)
    return last[last["is_active"]].reset_index(drop=True)


def test_consensus_line_is_the_median_of_the_books_main_lines():
    b = as_offer_frame([quote(x, line, 0.5) for x, line in
                        [("a", 6.5), ("b", 6.5), ("c", 7.5), ("d", 8.5), ("e", 6.5)]])
    c = consensus(b, prob_fn=same_line_only).iloc[0]
    assert (c["consensus_line"], c["prob_line"], c["n_books"]) == (6.5, 6.5, 5)


def test_books_on_other_lines_are_compared_through_the_distribution():
    # Model: X ~ Poisson(3.2) (scipy closed form). A 3.5 quote is judged against
    # P(X >= 4) = poisson.sf(3, 3.2), not against the 2.5 books' price.
    def prob_fn(anchors: pd.DataFrame, x: np.ndarray) -> np.ndarray:
        return poisson.sf(np.floor(x), 3.2)

    rows = [quote(b, 2.5, poisson.sf(2, 3.2)) for b in "abc"] + [
        quote("d", 3.5, poisson.sf(3, 3.2)), quote("e", 3.5, poisson.sf(3, 3.2))]
    q = screen(as_offer_frame(rows), prob_fn=prob_fn).quotes.set_index("book")
    assert q.loc["d", "expected_prob"] == pytest.approx(poisson.sf(3, 3.2), abs=1e-12)
    assert q.loc["d", "reason"] == ""


def test_price_of_the_neighbouring_line_is_flagged_with_its_likely_line():
    # X ~ Normal(6, 2): fair P(over 6.5) = norm.sf(6.5, 6, 2); book "x" quotes 6.5 at the
    # price of 7.5.
    def prob_fn(anchors: pd.DataFrame, x: np.ndarray) -> np.ndarray:
        return norm.sf(x, 6.0, 2.0)

    rows = [quote(b, 6.5, norm.sf(6.5, 6, 2)) for b in "abcd"] + [
        quote("x", 6.5, norm.sf(7.5, 6, 2))]
    out = outliers(as_offer_frame(rows), prob_fn=prob_fn)
    assert out[["book", "reason", "likely_line"]].values.tolist() == [
        ["x", "neighbour_line", 7.5]]


def test_absurd_quote_on_real_data_is_flagged_and_kept_out_of_best_price():
    # 14:18:04 BetUS listed Ravens -7 at -1110 / Bears +7 at +810 while the other books
    # quoted -7 around -115/-105: its +810 would be the "best" Bears price.
    b = board_at("2025-10-25T14:20:00Z")
    out = outliers(b)
    betus = out[(out["book"] == "betus") & (out["market"] == "spreads")]
    assert betus["reason"].tolist() == ["off_line"]
    best = best_prices(b)
    row = best[(best["market"] == "spreads") & (best["line"] == -7.0)].iloc[0]
    assert row["best_under_book"] != "betus"
    assert row["best_under_price"] < 810


def test_flagged_quote_does_not_shape_the_consensus():
    rows = [quote(b, 6.5, 0.52) for b in "abc"] + [quote("x", 6.5, 0.95)]
    c = consensus(as_offer_frame(rows)).iloc[0]
    assert c["consensus_prob"] == pytest.approx(0.52, abs=1e-9)
    assert c["n_books"] == 3


def test_impossible_own_hold_is_flagged():
    # -105 / +300: 1/1.952381 + 1/4 = 0.762195, a hold of -23.8 %.
    rows = [quote(b, 6.5, 0.5) for b in "abc"] + [
        {**quote("x", 6.5, 0.5), "over_price": -105.0, "under_price": 300.0}]
    out = outliers(as_offer_frame(rows))
    assert out[["book", "reason"]].values.tolist() == [["x", "bad_hold"]]
    assert out["hold"].iloc[0] == pytest.approx(1 / (1 + 100 / 105) + 0.25 - 1)


def test_in_play_quote_older_than_max_age_live_is_stale():
    old = NOW - pd.Timedelta(minutes=20)
    rows = [quote(b, 6.5, 0.5, is_live=True) for b in "abc"] + [
        quote("x", 6.5, 0.5, is_live=True, book_last_update=old)]
    out = outliers(as_offer_frame(rows), now=NOW, max_age_live=pd.Timedelta("10min"))
    assert out[["book", "reason"]].values.tolist() == [["x", "stale"]]


def test_pre_game_quote_lingering_on_a_live_game_is_stale():
    rows = [quote(b, 6.5, 0.5, is_live=True) for b in "abc"] + [
        quote("x", 6.5, 0.5, is_live=False)]
    out = outliers(as_offer_frame(rows), now=NOW)
    assert out[["book", "reason"]].values.tolist() == [["x", "stale"]]


def test_without_a_model_only_the_common_line_is_judged():
    rows = [quote(b, 6.5, 0.5) for b in "abc"] + [quote("x", 9.5, 0.9)]
    q = screen(as_offer_frame(rows), prob_fn=same_line_only).quotes.set_index("book")
    assert np.isnan(q.loc["x", "expected_prob"])
    assert bool(q.loc["x", "usable"])


def test_screen_never_mutates_its_input():
    b = as_offer_frame([quote(x, 6.5, 0.5) for x in "abc"])
    kept = b.copy()
    screen(b)
    pd.testing.assert_frame_equal(b, kept)


def _nba_day(day: str) -> pd.DataFrame | None:
    root = shared_data()
    path = root / "odds-api-nba-props" / "player_threes_2024_25" / \
        f"props_{day}_player_threes.csv.gz" if root else None
    if path is None or not path.exists():
        return None
    d = pd.read_csv(path)
    return as_offer_frame(pd.DataFrame({
        "game_id": d["game"], "league": "nba", "player_name": d["player"],
        "player_id": d["player"].map(normalize_player_id), "market": d["market"],
        "book": d["bookmaker"], "line": d["line"], "over_price": d["over_odds"],
        "under_price": d["under_odds"], "fetched_at": pd.Timestamp(f"{day}T15:00Z")}))


@pytest.mark.realdata
def test_betrivers_threes_stretch_is_caught_by_the_outlier_guard():
    # Oct-Dec 2024 BetRivers priced NBA threes as if for the neighbouring line.
    inside, after = _nba_day("2024-11-20"), _nba_day("2025-01-15")
    if inside is None or after is None:
        pytest.skip("../shared/data/odds-api-nba-props absent")

    def share(board: pd.DataFrame) -> pd.Series:
        q = screen(board).quotes
        return q["reason"].isin(["off_line", "neighbour_line"]).groupby(q["book"]).mean()

    during, later = share(inside), share(after)
    assert during["betrivers"] > 0.5
    assert during.drop("betrivers").max() < 0.05
    assert later["betrivers"] < 0.05
