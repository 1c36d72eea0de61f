"""Line movement on the committed real excerpt (tests/fixtures/nfl_line_changes_excerpt.csv,
github.com/kevbowl/odds-fetcher, MIT): values below were read off the CSV rows by hand."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd
import pytest

from propsage.analytics import line_movements, snapshots_from_line_changes, velocity
from propsage.analytics.history import read_line_changes

EXCERPT = Path(__file__).parent / "fixtures" / "nfl_line_changes_excerpt.csv"
T = pd.Timestamp


@lru_cache(maxsize=1)
def _snaps() -> pd.DataFrame:
    return snapshots_from_line_changes(read_line_changes(str(EXCERPT)))


def snaps() -> pd.DataFrame:
    return _snaps().copy()


def moves_of(book: str, market: str = "spreads") -> pd.DataFrame:
    m = line_movements(snaps())
    return m[(m["book"] == book) & (m["market"] == market)].reset_index(drop=True)


def test_one_sided_outcome_change_is_paired_with_the_other_sides_last_price():
    # 17:22:00 fetch: BetRivers changed only "Chicago Bears +2.0 -112"; its Ravens -2.0 stayed
    # at -113 (set 16:46:30), so the offer at home point -2.0 reads -113 / -112.
    s = snaps()
    row = s[(s["book"] == "betrivers") & (s["market"] == "spreads")
            & (s["fetched_at"] == T("2025-10-25T17:22:00Z"))]
    assert row[["line_numeric", "over_price", "under_price"]].values.tolist() == [
        [-2.0, -113.0, -112.0]]


def test_a_new_main_line_withdraws_the_old_offer():
    # DraftKings moved its spread from Ravens -7 to -5.5 (fetched 14:34:18).
    s = snaps()
    at = s[(s["book"] == "draftkings") & (s["market"] == "spreads")
           & (s["fetched_at"] == T("2025-10-25T14:34:18Z"))]
    assert sorted(zip(at["line_numeric"], at["is_active"], strict=True)) == [
        (-7.0, False), (-5.5, True)]


def test_main_line_change_is_a_line_move_even_though_the_offer_changes():
    m = moves_of("draftkings")
    move = m[m["moved_at"] == T("2025-10-25T16:24:17Z")].iloc[0]
    assert (move["kind"], move["from_line"], move["to_line"]) == ("line", -3.5, -1.5)
    before = m[m["moved_at"] == T("2025-10-25T14:45:41Z")].iloc[0]
    assert move["prop_offer_id"] != before["prop_offer_id"]


def test_line_moving_toward_the_away_team_has_direction_minus_one():
    # Ravens -3.5 -> -1.5: the market moved toward the Bears (the under / away side).
    move = moves_of("draftkings").query("to_line == -1.5").iloc[0]
    assert move["direction"] == -1


def test_juice_move_at_the_same_line_is_sized_by_the_no_vig_probability():
    # FanDuel Ravens -3.5: -118/-104 -> -105/-115 at 14:57:06. By hand (multiplicative):
    # before (118/218) / (118/218 + 104/204) = 0.5149752,
    # after  (105/205) / (105/205 + 115/215) = 0.4891658, a move of -0.0258094.
    m = moves_of("fanduel")
    move = m[m["moved_at"] == T("2025-10-25T14:57:06Z")].iloc[0]
    assert move["kind"] == "price"
    assert move["prob_move"] == pytest.approx(-0.0258094, abs=1e-7)
    assert bool(move["significant"])


def test_small_juice_move_is_not_significant():
    # BetRivers -3.5: -115/-110 -> -117/-109 (14:44:42) moves P(home) by 0.003.
    m = moves_of("betrivers")
    move = m[m["moved_at"] == T("2025-10-25T14:44:42Z")].iloc[0]
    assert not bool(move["significant"])


def test_movements_do_not_depend_on_row_order_nor_touch_the_input():
    s = snaps()
    shuffled = s.sample(frac=1.0, random_state=3)
    kept = shuffled.copy()
    a = line_movements(s)
    b = line_movements(shuffled)
    pd.testing.assert_frame_equal(shuffled, kept)
    cols = ["book", "market", "kind", "from_line", "to_line", "moved_at"]
    pd.testing.assert_frame_equal(a[cols].sort_values(cols).reset_index(drop=True),
                                  b[cols].sort_values(cols).reset_index(drop=True))


def test_velocity_is_line_change_per_minute_over_the_window():
    # DraftKings stood at -3.5 from 14:45:48 and showed -1.5 at 16:24:38: over the 30 minutes
    # to 16:30 the line moved +2.0, i.e. 0.0667 points a minute.
    v = velocity(snaps(), window="30min", now=T("2025-10-25T16:30:00Z"))
    dk = v[(v["book"] == "draftkings") & (v["market"] == "spreads")].iloc[0]
    assert (dk["line_start"], dk["line_end"]) == (-3.5, -1.5)
    assert dk["line_velocity"] == pytest.approx(2.0 / 30.0)


def test_move_after_a_suspension_is_marked_after_gap():
    t0 = T("2025-10-25T12:00:00Z")
    rows = []
    for i, (line, susp) in enumerate([(6.5, False), (6.5, True), (7.5, False)]):
        rows.append({"prop_offer_id": f"o{line}", "game_id": "g", "player_id": "p",
                     "market": "player_receptions", "book": "dk", "line_numeric": line,
                     "over_price": -110.0, "under_price": -110.0, "is_suspended": susp,
                     "is_active": True, "fetched_at": t0 + pd.Timedelta(minutes=5 * i)})
    rows.append({**rows[0], "is_active": False, "fetched_at": t0 + pd.Timedelta(minutes=10)})
    m = line_movements(pd.DataFrame(rows))
    assert m[["from_line", "to_line", "after_gap"]].values.tolist() == [[6.5, 7.5, True]]
