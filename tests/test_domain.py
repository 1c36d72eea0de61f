"""Domain helpers: stable player ids and offer ids."""

from __future__ import annotations

import numpy as np

from propsage.domain import as_offer_frame, normalize_player_id


def test_player_id_ignores_accents_case_and_punctuation():
    assert normalize_player_id("Nikola Jokić") == normalize_player_id("nikola jokic")


def test_player_id_drops_generational_suffixes():
    assert normalize_player_id("Marvin Harrison Jr.") == "marvin-harrison"
    assert normalize_player_id("Gary Trent Jr") == normalize_player_id("Gary Trent")
    assert normalize_player_id("Robert Griffin III") == "robert-griffin"


def test_player_id_handles_apostrophes_and_initials():
    assert normalize_player_id("De'Aaron Fox") == normalize_player_id("DeAaron Fox")
    assert normalize_player_id("A.J. Brown") == normalize_player_id("A J Brown") == "aj-brown"
    assert normalize_player_id("AJ Brown") == "aj-brown"


def test_offer_id_is_stable_and_line_specific():
    rows = [{"game_id": "g", "player_name": "A", "market": "m", "book": "b", "line": line,
             "over_price": -110.0, "under_price": -110.0} for line in (6.5, 6.5, 7.5, np.nan)]
    ids = as_offer_frame(rows)["offer_id"].tolist()
    assert ids[0] == ids[1]
    assert len(set(ids)) == 3
    assert ids[0] == as_offer_frame(rows[:1])["offer_id"].iloc[0]


def test_a_pickem_spread_has_one_id_whatever_the_sign_of_zero():
    from propsage.domain import _offer_id

    _offer_id.cache_clear()
    neg = _offer_id("g", "", "spreads", "dk", -0.0)
    _offer_id.cache_clear()
    pos = _offer_id("g", "", "spreads", "dk", 0.0)
    assert neg == pos


def test_outcome_threshold_negates_the_home_point_of_spreads_only():
    from propsage.domain import outcome_threshold

    got = outcome_threshold(np.array(["spreads", "totals", "player_points"], dtype=object),
                            np.array([-3.5, 44.5, 24.5]))
    assert got.tolist() == [3.5, 44.5, 24.5]  # home -3.5: home must win by more than 3.5
