"""Arbitrage and middles: hand arithmetic, scipy.stats pmfs, and the committed real excerpt."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import poisson

from propsage.analytics import (
    arbitrage,
    arbitrage_windows,
    middles,
    same_line_only,
    snapshots_from_line_changes,
)
from propsage.analytics.history import read_line_changes
from propsage.domain import as_offer_frame

EXCERPT = Path(__file__).parent / "fixtures" / "nfl_line_changes_excerpt.csv"
NOW = pd.Timestamp("2025-11-01T18:00:00Z")
T = pd.Timestamp


def q(book: str, line: float, over: float, under: float, **kw: object) -> dict:
    return {"game_id": "g", "player_id": "p", "market": "player_receptions", "book": book,
            "line": line, "over_price": over, "under_price": under, "fetched_at": NOW,
            "book_last_update": NOW, "is_live": False, **kw}


@lru_cache(maxsize=1)
def _windows() -> pd.DataFrame:
    snaps = snapshots_from_line_changes(read_line_changes(str(EXCERPT)))
    return arbitrage_windows(snaps, max_age="12h", max_age_live="2min")


def test_arbitrage_return_and_stakes():
    # Over +110 at a, under +105 at b: 1/2.10 + 1/2.05 = 0.476190 + 0.487805 = 0.963995,
    # a return of 1/0.963995 - 1 = 3.7350 %; stakes 100 * 0.476190 / 0.963995 = 49.3975 and
    # 50.6025, each paying 103.7350.
    rows = [q("a", 6.5, 110, -130), q("b", 6.5, -125, 105), q("c", 6.5, -105, -115)]
    arb = arbitrage(as_offer_frame(rows), bankroll=100.0, now=NOW).iloc[0]
    assert (arb["over_book"], arb["under_book"]) == ("a", "b")
    assert arb["return_pct"] == pytest.approx(3.7350, abs=1e-4)
    assert arb["stake_over"] == pytest.approx(49.3975, abs=1e-4)
    assert arb["stake_under"] == pytest.approx(50.6025, abs=1e-4)
    assert arb["payout"] == pytest.approx(103.7350, abs=1e-4)


def test_prices_on_different_lines_are_not_an_arbitrage():
    rows = [q("a", 6.5, 110, -130), q("b", 7.5, -125, 105), q("c", 6.5, -105, -115)]
    assert arbitrage(as_offer_frame(rows), now=NOW, prob_fn=same_line_only).empty


def test_stale_leg_is_excluded_from_arbitrage():
    old = NOW - pd.Timedelta(minutes=20)
    rows = [q("a", 6.5, 110, -130, is_live=True), q("c", 6.5, -105, -115, is_live=True),
            q("b", 6.5, -125, 105, is_live=True, book_last_update=old)]
    assert arbitrage(as_offer_frame(rows), now=NOW, max_age_live="10min").empty


def test_real_arbitrage_window_opens_and_closes_with_the_quotes():
    # h2h: FanDuel Ravens -196 and DraftKings Bears +200, both at 14:33:56 (book time):
    # 1/(1 + 100/196) + 1/3 = 0.995495, a 0.4525 % return, until DraftKings moved to
    # -205/+170 at 14:45:41: 705 s.
    w = _windows()
    row = w[w["opened_at"] == T("2025-10-25T14:33:56Z")].iloc[0]
    assert (row["market"], row["over_book"], row["under_book"]) == ("h2h", "fanduel",
                                                                     "draftkings")
    assert row["max_return_pct"] == pytest.approx(100 * (1 / (196 / 296 + 1 / 3) - 1))
    assert row["closed_at"] == T("2025-10-25T14:45:41Z")
    assert row["duration_s"] == 705.0


def test_window_records_how_far_apart_the_legs_were_set():
    # Caesars' Ravens -205 (14:32:18) against DraftKings' Bears +280 set at 03:34:53 the
    # night before: 10 h 57 min 25 s = 39,445 s apart.
    row = _windows()[lambda d: d["opened_at"] == T("2025-10-25T14:32:18Z")].iloc[0]
    assert (row["over_book"], row["under_book"]) == ("williamhill_us", "draftkings")
    assert row["leg_lag_s"] == 39445.0


def test_absurd_quote_makes_no_false_arbitrage():
    # BetUS Bears +7 at +810 against MyBookie Ravens -7 at -105 would "return" 60 %.
    assert not (_windows()["market"] == "spreads").any()


# Quotes near Poisson(3.4) fair values (so no guard removes them): over 3 at -120,
# under 5 at -700, and a book on 4.
MIDDLE_ROWS = [q("a", 3.0, -120, 100), q("b", 5.0, 450, -700), q("c", 4.0, 200, -260)]


def test_middle_probabilities_follow_the_outcome_distribution():
    # X ~ Poisson(3.4); over 3 at a, under 5 at b: both win at X = 4, one pushes at 3 or 5.
    def prob_fn(anchors: pd.DataFrame, x: np.ndarray) -> np.ndarray:
        return poisson.sf(np.floor(x), 3.4)

    m = middles(as_offer_frame(MIDDLE_ROWS), prob_fn=prob_fn, now=NOW, min_ev=None)
    mid = m[(m["over_book"] == "a") & (m["under_book"] == "b")].iloc[0]
    assert mid["hit_prob"] == pytest.approx(poisson.pmf(4, 3.4), abs=1e-12)
    assert mid["push_prob"] == pytest.approx(poisson.pmf(3, 3.4) + poisson.pmf(5, 3.4),
                                             abs=1e-12)


def test_middle_ev_equals_the_sum_over_outcomes():
    def prob_fn(anchors: pd.DataFrame, x: np.ndarray) -> np.ndarray:
        return poisson.sf(np.floor(x), 3.4)

    mid = middles(as_offer_frame(MIDDLE_ROWS), prob_fn=prob_fn, now=NOW, min_ev=None,
                  bankroll=100.0).query("over_book == 'a' and under_book == 'b'").iloc[0]
    d_o, d_u = 1 + 100 / 120, 1 + 100 / 700
    s_o = 100 * (1 / d_o) / (1 / d_o + 1 / d_u)
    s_u = 100 - s_o
    ev = 0.0
    for x in range(60):  # enumerate outcomes: over 3 wins above 3, pushes at 3
        back = (s_o * d_o if x > 3 else s_o if x == 3 else 0.0) + (
            s_u * d_u if x < 5 else s_u if x == 5 else 0.0)
        ev += poisson.pmf(x, 3.4) * (back - 100)
    assert mid["ev"] == pytest.approx(ev, abs=1e-9)
