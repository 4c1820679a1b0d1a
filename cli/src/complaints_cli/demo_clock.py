"""The demo's business clock: working hours at the demo's pace, nights and weekends in seconds.

At one working day per real minute, a uniform clock spends 100 real seconds on every night and
over 7 minutes on a weekend, with nothing to watch. The demo instead gives every process the same
pace plan (`<SERVICE>_TIME_PLAN`, servicekit.clock.Pace): working periods at `scale`, each stretch
between them passed in `off_s` real seconds. The scheduler and the dispatcher nap by the plan, so
what falls due in a night still fires, in order, at its own business time (docs/adr/0013).
"""

from __future__ import annotations

import itertools
import json
from datetime import date, datetime, timedelta
from typing import Protocol

OFF_S = 2.0  # real seconds for a night, a weekend or a holiday between two working periods
PLAN_DAYS = 31  # calendar days the plan covers; after them the clock keeps the working pace

Plan = list[tuple[datetime, float]]


class BusinessCalendar(Protocol):
    """What the plan needs of the SLA's business calendar (the CLI does not import the SLA)."""

    def local(self, moment: datetime) -> datetime:
        """`moment` in the calendar's time zone."""
        ...

    def periods(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working periods of `day` (none on a day off)."""
        ...


def pace_plan(
    calendar: BusinessCalendar,
    origin: datetime,
    *,
    scale: float,
    off_s: float = OFF_S,
    days: int = PLAN_DAYS,
) -> Plan:
    """Pace changes from `origin` on: `scale` in working periods, stretches between in `off_s`."""
    periods = [
        period
        for offset in range(-1, days)
        for period in calendar.periods(calendar.local(origin).date() + timedelta(days=offset))
    ]
    plan: Plan = []
    for (_, end), (start, _) in itertools.pairwise(periods):
        gap = (start - end).total_seconds()
        plan.append((end, max(scale, gap / off_s)))  # a short gap (a lunch break) stays as is
        plan.append((start, scale))
    if periods and origin < periods[0][0]:  # before the first opening: hurry to it as well
        gap = (periods[0][0] - origin).total_seconds()
        plan.insert(0, (origin, max(scale, gap / off_s)))
    return plan


def opening(calendar: BusinessCalendar, after: datetime) -> datetime:
    """The start of the first working period at or after `after` (`after` itself if inside one)."""
    day = calendar.local(after).date()
    for offset in range(PLAN_DAYS):
        for start, end in calendar.periods(day + timedelta(days=offset)):
            if end > after:
                return max(start, after)
    return after


def plan_json(plan: Plan) -> str:
    """The plan as the services read it (`servicekit.clock.parse_plan`)."""
    return json.dumps([[at.isoformat(), rate] for at, rate in plan])
