"""A callable pricer for ingest: ``Ingestor(pricer=BoardPricer(...))``.

It prices each poll's batch with ``price_board`` and keeps the priors in memory, reloading
them from ``load_results`` (e.g. the store's ``results`` table) when older than ``refresh``.
Optional ``load_movements(since)`` feeds the recent line moves of the seed's movement penalty.
The last ``Board`` is kept (``.board``) so other modules can read fair probabilities at any line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from propsage.pricing.engine import Board, PricingSettings, price_board
from propsage.pricing.evidence import Evidence
from propsage.pricing.priors import PriorSettings, empty_priors, priors_from_results


def us_slate_date(now: pd.Timestamp) -> pd.Timestamp:
    """The US (Eastern) calendar date of ``now``: games of this date are not in the priors."""
    return pd.Timestamp(now.tz_convert("America/New_York").date())


@dataclass
class BoardPricer:
    """Prices ingest batches; priors cached and refreshed (see module docstring)."""

    load_results: Callable[[], pd.DataFrame] | None = None
    load_movements: Callable[[pd.Timestamp], pd.DataFrame] | None = None
    evidence: Iterable[Evidence] | pd.DataFrame | None = None
    settings: PricingSettings = field(default_factory=PricingSettings)
    prior_settings: PriorSettings = field(default_factory=PriorSettings)
    refresh: pd.Timedelta = field(default_factory=lambda: pd.Timedelta(hours=1))
    priors: pd.DataFrame = field(default_factory=empty_priors)
    loaded_at: pd.Timestamp | None = None
    board: Board | None = None

    def refresh_priors(self, now: pd.Timestamp | None = None) -> pd.DataFrame:
        """Reload results and rebuild the priors (games before today's US date)."""
        now = now or pd.Timestamp.now(tz="UTC")
        if self.load_results is not None:
            results = self.load_results()
            self.priors = priors_from_results(results, as_of=us_slate_date(now),
                                              settings=self.prior_settings,
                                              markets=self.settings.markets)
        self.loaded_at = now
        return self.priors

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        """The batch with the model's columns added."""
        now = pd.Timestamp.now(tz="UTC")
        if len(batch) and "fetched_at" in batch:
            now = pd.Timestamp(batch["fetched_at"].max())
        if self.loaded_at is None or now - self.loaded_at >= self.refresh:
            self.refresh_priors(now)
        moves = None
        if self.load_movements is not None:
            since = now - pd.Timedelta(minutes=self.settings.context.movement_window_minutes)
            moves = self.load_movements(since)
        self.board = price_board(batch, self.priors, self.evidence, movements=moves, now=now,
                                 settings=self.settings)
        return self.board.offers


def make_pricer(store: Any, **kwargs: Any) -> BoardPricer:
    """The ingest pricer for a ``propsage.store.Store``: priors from its ``results`` table
    (reloaded hourly), the movement penalty from its ``line_movements``."""
    return BoardPricer(load_results=lambda: store.query("SELECT * FROM results"),
                       load_movements=lambda since: store.movements(since=since), **kwargs)
