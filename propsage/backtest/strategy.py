"""Strategies as data: which quotes to bet, when, and how much.

A ``Strategy`` is a frozen dataclass, written in Python or loaded from a small TOML / JSON
(/ YAML when PyYAML is installed) file whose keys are the field names::

    name = "soft-book edge"
    model = "consensus"          # fair prob: other books' no-vig consensus at decision time
    min_ev = 0.02                # expected return per unit staked at the price taken
    books = ["fanduel", "draftkings"]
    decide_before = ["6h", "1h"] # decision times, before each game's start
    staking = "kelly"
    kelly_fraction = 0.25

``screen = true`` runs the analytics outlier guard (``propsage.analytics.screen``) on each
decision board first and drops the quotes it flags (a price stored under the wrong line, an
impossible hold, an off-market price): they neither count in the consensus nor get bet.

``max_quote_age = "24h"`` ignores quotes whose last change is older than that at the decision
time (and at the close): a history without withdrawals (a change log) keeps dead quotes
"active" forever.

``model``:
  - ``consensus``: the fair probability of an offer is the no-vig consensus of the OTHER books
    quoting that player-market at the decision time, converted to the offer's line through the
    pricing distribution (line-aware); needs at least ``min_books`` other books.
  - ``stored``: the pricer's ``fair_over_prob`` stored with the snapshot at ingest time.
"""

from __future__ import annotations

import dataclasses
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

MODELS = ("consensus", "stored")
STAKING = ("flat", "kelly")
ONE_BET_PER = ("player_market", "offer", "none")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(d|h|m|min|s)?\s*$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes", "min": "minutes", "s": "seconds",
          None: "minutes"}


def parse_duration(value: str | float | int | pd.Timedelta) -> pd.Timedelta:
    """A duration from '90m', '6h', '1.5d', a Timedelta, or a number of minutes."""
    if isinstance(value, pd.Timedelta):
        return value
    if isinstance(value, int | float):
        return pd.Timedelta(minutes=float(value))
    m = _DURATION.match(str(value))
    if not m:
        raise ValueError(f"not a duration: {value!r} (use e.g. '90m', '6h', '1.5d')")
    return pd.Timedelta(**{_UNITS[m.group(2)]: float(m.group(1))})


@dataclass(frozen=True, slots=True)
class Strategy:
    """Filters, timing and staking of one betting rule (see module docstring)."""

    name: str = "edge"
    model: str = "consensus"
    devig: str = "multiplicative"           # propsage.odds.devig method for no-vig probs
    min_ev: float = 0.02                    # p_fair * decimal - 1 at the price taken
    max_ev: float = 0.30                    # larger "edges" are stale or bad quotes
    min_books: int = 3                      # other books needed for a consensus
    screen: bool = False                    # drop quotes propsage.analytics.screen flags
    max_quote_age: pd.Timedelta | None = None   # drop quotes unchanged for longer (and at close)
    books: tuple[str, ...] = ()             # books we bet at (empty: any)
    consensus_books: tuple[str, ...] = ()   # books forming the consensus (empty: all)
    markets: tuple[str, ...] = ()           # empty: all
    leagues: tuple[str, ...] = ()           # empty: all
    sides: tuple[str, ...] = ("over", "under")
    decide_before: tuple[pd.Timedelta, ...] = (pd.Timedelta(hours=6),)
    one_bet_per: str = "player_market"      # keep the first qualifying bet per player-market
    staking: str = "flat"
    stake: float = 1.0                      # flat stake (units)
    kelly_fraction: float = 0.25
    max_stake_fraction: float = 0.05        # cap per bet, share of bankroll
    bankroll: float = 100.0
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        def fix(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        for name in ("books", "consensus_books", "markets", "leagues", "sides"):
            value = getattr(self, name)
            fix(name, (value,) if isinstance(value, str) else tuple(value))
        before = self.decide_before
        if isinstance(before, str | int | float | pd.Timedelta):
            before = (before,)
        fix("decide_before", tuple(sorted((parse_duration(v) for v in before), reverse=True)))
        if self.max_quote_age is not None:
            fix("max_quote_age", parse_duration(self.max_quote_age))
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}, got {self.model!r}")
        if self.staking not in STAKING:
            raise ValueError(f"staking must be one of {STAKING}, got {self.staking!r}")
        if self.one_bet_per not in ONE_BET_PER:
            raise ValueError(f"one_bet_per must be one of {ONE_BET_PER}, got {self.one_bet_per!r}")
        if not self.decide_before or any(d <= pd.Timedelta(0) for d in self.decide_before):
            raise ValueError("decide_before needs durations > 0 (decisions precede the start)")
        if bad := set(self.sides) - {"over", "under"}:
            raise ValueError(f"sides must be 'over' and/or 'under', got {sorted(bad)}")
        if not 0 < self.kelly_fraction <= 1:
            raise ValueError(f"kelly_fraction must be in (0, 1], got {self.kelly_fraction}")
        if self.min_books < 1:
            raise ValueError(f"min_books must be >= 1, got {self.min_books}")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able fields (durations as minutes)."""
        out = dataclasses.asdict(self)
        out["decide_before"] = [d.total_seconds() / 60.0 for d in self.decide_before]
        if self.max_quote_age is not None:
            out["max_quote_age"] = self.max_quote_age.total_seconds() / 60.0
        for k in ("books", "consensus_books", "markets", "leagues", "sides"):
            out[k] = list(out[k])
        return out

    def replace(self, **changes: Any) -> Strategy:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)


# Named strategies the CLI accepts instead of a file.
PRESETS: dict[str, Strategy] = {
    "edge": Strategy(),
    "soft-vs-consensus": Strategy(name="soft-vs-consensus", min_ev=0.01,
                                  decide_before=("6h", "2h", "30m")),
    "model-edge": Strategy(name="model-edge", model="stored", min_ev=0.05, min_books=1),
}


def strategy_from_dict(data: dict[str, Any]) -> Strategy:
    """A strategy from a mapping of field names (unknown keys raise)."""
    names = {f.name for f in dataclasses.fields(Strategy)}
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"unknown strategy keys {sorted(unknown)}; allowed: {sorted(names)}")
    return Strategy(**data)


def load_strategy(spec: str | Path | Strategy | dict[str, Any]) -> Strategy:
    """A strategy from a preset name, a .toml/.json/.yaml file, a dict, or a Strategy."""
    if isinstance(spec, Strategy):
        return spec
    if isinstance(spec, dict):
        return strategy_from_dict(spec)
    text = str(spec)
    if text in PRESETS:
        return PRESETS[text]
    path = Path(text)
    if not path.exists():
        raise ValueError(f"strategy {text!r} is neither a preset ({', '.join(PRESETS)}) nor a file")
    suffix = path.suffix.lower()
    if suffix == ".toml":
        data = tomllib.loads(path.read_text())
    elif suffix == ".json":
        data = json.loads(path.read_text())
    elif suffix in (".yaml", ".yml"):
        import yaml  # optional: only for YAML strategy files

        data = yaml.safe_load(path.read_text())
    else:
        raise ValueError(f"strategy file must be .toml, .json or .yaml, got {path.name}")
    return strategy_from_dict(dict(data.get("strategy", data)))
