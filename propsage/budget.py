"""The Odds API credit budget: quota headers, a credits-per-hour planner, and the floor.

Every response carries ``x-requests-remaining``, ``x-requests-used`` and ``x-requests-last``
(the cost of that call). A call to ``/odds`` costs markets x regions, one to
``/events/{id}/odds`` costs the markets it returned x regions, ``/scores`` with ``daysFrom``
costs 2, ``/events`` and ``/sports`` are free; ten bookmakers count as one region.
The planner turns the polling plan (games x markets x regions x polls per hour) into credits
per hour and warns when the monthly quota would run out before it resets. Below
``quota_floor`` credits the provider stops polling props (the expensive calls) and keeps the
cheap ones (events, game lines, scores).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

log = logging.getLogger(__name__)

# Markets the bulk /odds endpoint serves; everything else needs /events/{id}/odds.
FEATURED_MARKETS = frozenset({"h2h", "spreads", "totals", "outrights", "h2h_lay", "outrights_lay"})
SCORES_COST = 2          # /scores with daysFrom (needed to see games turn final)


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        return int(float(raw))
    except (TypeError, ValueError):
        return None


def read_quota(headers: Mapping[str, str]) -> tuple[int | None, int | None, int | None]:
    """(remaining, used, last) from a response's quota headers (None where absent)."""
    return (_header_int(headers, "x-requests-remaining"), _header_int(headers, "x-requests-used"),
            _header_int(headers, "x-requests-last"))


def region_units(regions: tuple[str, ...] | list[str], bookmakers: tuple[str, ...] | list[str] = ()
                 ) -> int:
    """How many regions a request is billed for: ``bookmakers`` (10 per unit) win over regions."""
    if bookmakers:
        return max(1, math.ceil(len(bookmakers) / 10))
    return max(1, len(regions))


def next_reset(now: pd.Timestamp, reset_day: int = 1) -> pd.Timestamp:
    """The next monthly quota reset (00:00 UTC on ``reset_day``) strictly after ``now``."""
    now = pd.Timestamp(now).tz_convert("UTC")
    this = now.normalize().replace(day=min(reset_day, 28))
    if this > now:
        return this
    return (this + pd.offsets.MonthBegin(1)).replace(day=min(reset_day, 28))


@dataclass(frozen=True, slots=True)
class Plan:
    """Credits an hour of polling costs, by kind, and when the quota would run out."""

    credits_per_hour: float
    props_per_hour: float
    lines_per_hour: float
    scores_per_hour: float
    remaining: int | None
    resets_at: pd.Timestamp
    runs_out_at: pd.Timestamp | None    # when remaining reaches the floor at this rate
    warning: str = ""


def credits_per_hour(*, live_games: int, pregame_games: int, prop_markets: int,
                     line_markets: int, units: int, live_interval: float,
                     pregame_interval: float, lines_interval: float, sports: int = 1,
                     scores_interval: float | None = 60.0) -> tuple[float, float, float]:
    """(props, game lines, scores) credits per hour of one polling plan."""
    props = units * prop_markets * (live_games * 3600.0 / live_interval
                                    + pregame_games * 3600.0 / pregame_interval)
    lines = units * line_markets * sports * 3600.0 / lines_interval if line_markets else 0.0
    scores = (SCORES_COST * sports * 3600.0 / scores_interval
              if scores_interval and live_games else 0.0)
    return props, lines, scores


def plan(*, remaining: int | None, now: pd.Timestamp, quota_floor: int = 0, reset_day: int = 1,
         **polling: float) -> Plan:
    """Plan of ``credits_per_hour(**polling)`` against the remaining quota and the reset date."""
    props, lines, scores = credits_per_hour(**polling)
    total = props + lines + scores
    resets = next_reset(now, reset_day)
    if remaining is None or total <= 0:
        return Plan(total, props, lines, scores, remaining, resets, None)
    spendable = max(remaining - quota_floor, 0)
    hours = spendable / total
    runs_out = pd.Timestamp(now).tz_convert("UTC") + pd.Timedelta(hours=hours)
    warning = ""
    if runs_out < resets:
        warning = (
            f"Odds API budget: polling as planned costs ~{total:,.0f} credits/hour "
            f"(props {props:,.0f}, game lines {lines:,.0f}, scores {scores:,.0f}); the "
            f"{remaining:,} remaining credits reach the floor of {quota_floor:,} around "
            f"{runs_out:%Y-%m-%d %H:%M} UTC, before the quota resets on {resets:%Y-%m-%d}. "
            "Prop polling stops there. Poll less often, or fewer games, markets or books."
        )
    return Plan(total, props, lines, scores, remaining, resets, runs_out, warning)


class Budget:
    """Quota state shared by a provider's threads, the floor, and rate-limited warnings."""

    def __init__(self, quota_floor: int = 0, *, reset_day: int = 1, warn_every: float = 3600.0,
                 clock=time.monotonic):  # noqa: ANN001
        self.quota_floor = int(quota_floor)
        self.reset_day = reset_day
        self.remaining: int | None = None
        self.used: int | None = None
        self.last: int | None = None
        self.spent = 0                      # sum of x-requests-last seen by this process
        self.warn_every = warn_every
        self._clock = clock
        self._last_warning: float | None = None
        self._lock = threading.Lock()
        self.last_plan: Plan | None = None

    def update(self, headers: Mapping[str, str]) -> bool:
        """Read the quota headers of one response; True if it had any."""
        remaining, used, last = read_quota(headers)
        if remaining is None and used is None and last is None:
            return False
        with self._lock:
            if remaining is not None:
                self.remaining = remaining
            if used is not None:
                self.used = used
            if last is not None:
                self.last = last
                self.spent += last
        return True

    @property
    def props_allowed(self) -> bool:
        """False once the remaining credits are at or below the floor (unknown: allowed)."""
        return self.remaining is None or self.remaining > self.quota_floor

    def check(self, now: pd.Timestamp, **polling: float) -> Plan:
        """Plan the given polling; log its warning at most once per ``warn_every`` seconds."""
        p = plan(remaining=self.remaining, now=now, quota_floor=self.quota_floor,
                 reset_day=self.reset_day, **polling)
        self.last_plan = p
        if p.warning:
            t = self._clock()
            if self._last_warning is None or t - self._last_warning >= self.warn_every:
                self._last_warning = t
                log.warning(p.warning)
        return p
