"""Strategies as data: files, presets, validation."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from propsage.backtest.strategy import PRESETS, Strategy, load_strategy, parse_duration


def test_a_toml_file_sets_fields_by_name(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('name = "soft"\nmin_ev = 0.03\nbooks = ["fanduel"]\n'
                    'decide_before = ["30m", "6h"]\nstaking = "kelly"\n')
    s = load_strategy(path)
    assert (s.name, s.min_ev, s.books, s.staking) == ("soft", 0.03, ("fanduel",), "kelly")
    # Decision times run earliest first.
    assert s.decide_before == (pd.Timedelta(hours=6), pd.Timedelta(minutes=30))


def test_a_json_file_may_nest_the_fields_under_strategy(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"strategy": {"model": "stored", "markets": "player_points"}}))
    s = load_strategy(path)
    assert s.model == "stored" and s.markets == ("player_points",)


def test_unknown_keys_are_refused_with_their_names(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"min_edge": 0.1}))
    with pytest.raises(ValueError, match="min_edge"):
        load_strategy(path)


@pytest.mark.parametrize("bad", [{"model": "magic"}, {"staking": "martingale"},
                                 {"decide_before": ["-1h"]}, {"sides": ["middle"]},
                                 {"kelly_fraction": 0}])
def test_invalid_values_raise(bad):
    with pytest.raises(ValueError):
        Strategy(**bad)


def test_presets_load_by_name():
    assert load_strategy("edge") is PRESETS["edge"]
    with pytest.raises(ValueError, match="preset"):
        load_strategy("no-such-thing")


@pytest.mark.parametrize(("text", "expected"), [
    ("90m", pd.Timedelta(minutes=90)), ("6h", pd.Timedelta(hours=6)),
    ("1.5d", pd.Timedelta(hours=36)), (45, pd.Timedelta(minutes=45))])
def test_durations(text, expected):
    assert parse_duration(text) == expected


def test_to_dict_round_trips_through_json():
    s = Strategy(books=("fanduel",), decide_before=("2h",))
    again = load_strategy(json.loads(json.dumps(s.to_dict())))
    assert again == s


def test_max_quote_age_parses_like_the_decision_times():
    assert Strategy(max_quote_age="1.5d").max_quote_age == pd.Timedelta(hours=36)
    assert Strategy().to_dict()["max_quote_age"] is None
