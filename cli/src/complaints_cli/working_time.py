"""Working time on a stretch of the SLA's business calendar, fetched from the SLA's own tool.

The CLI imports no service (ADR 0014): the demo's staff ask `python -m sla.tools.calendar` for the
working periods of the weeks they play in (`contracts.calendar.WorkingPeriods`) and count working
time over them here. Counting is by running totals, so a sum or a difference is one bisection; a
moment outside the fetched days is an error, never a guess.
"""

from __future__ import annotations

import subprocess
import sys
from bisect import bisect_left, bisect_right
from datetime import date, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from zoneinfo import ZoneInfo

from contracts.calendar import WorkingPeriods

BEFORE_DAYS = 21  # a long holiday (Spring Festival) plus its weekends, to find the last working day
AFTER_DAYS = 60  # the demo's pace plan (31 days) and any step planned after it


class CalendarWindowError(ValueError):
    """A question about a day the fetched stretch of the calendar does not cover."""


class WorkingCalendar:
    """Working days, periods and working-time sums over one fetched stretch of the calendar."""

    def __init__(self, stretch: WorkingPeriods) -> None:
        self.stretch = stretch
        self.tz = ZoneInfo(stretch.timezone)
        self.timezone = stretch.timezone
        self.version = stretch.version
        periods = [(self.local(start), self.local(end)) for start, end in stretch.periods]
        self._starts = [start for start, _ in periods]
        self._ends = [end for _, end in periods]
        lengths = [end - start for start, end in periods]
        self._before = [timedelta(0), *accumulate(lengths)]  # working time before period i
        self._days: dict[date, list[tuple[datetime, datetime]]] = {}
        for start, end in periods:
            self._days.setdefault(start.date(), []).append((start, end))

    def local(self, moment: datetime) -> datetime:
        """`moment` in the calendar's time zone; naive datetimes are refused."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("the business calendar needs timezone-aware datetimes")
        return moment.astimezone(self.tz)

    def _check(self, day: date) -> None:
        if not self.stretch.first_day <= day <= self.stretch.last_day:
            raise CalendarWindowError(
                f"{day} is outside the calendar fetched ({self.stretch.first_day} to "
                f"{self.stretch.last_day})"
            )

    def periods(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working periods of `day` (none on a day off)."""
        self._check(day)
        return list(self._days.get(day, ()))

    def is_working_day(self, day: date) -> bool:
        """Whether `day` has working hours."""
        return bool(self.periods(day))

    def _worked(self, moment: datetime) -> timedelta:
        """Working time from the stretch's first period up to `moment`."""
        self._check(self.local(moment).date())
        i = bisect_right(self._starts, moment)  # periods starting at or before `moment`
        if i == 0:
            return timedelta(0)
        return self._before[i - 1] + min(moment, self._ends[i - 1]) - self._starts[i - 1]

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time inside [start, end]; zero when `end` is not after `start`."""
        return max(timedelta(0), self._worked(end) - self._worked(start))

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """The first moment, at or after `start`, with `amount` more working time behind it."""
        if amount < timedelta(0):
            raise ValueError("working time to add must not be negative")
        target = self._worked(start) + amount
        # The first period whose end reaches the target and lies at or after `start`: adding
        # nothing at a period's end stays there instead of jumping to the next opening.
        i = max(bisect_left(self._before, target, lo=1) - 1, bisect_left(self._ends, start))
        if i >= len(self._starts):
            raise CalendarWindowError(f"{amount} of working time after {start} is past the fetch")
        return self.local(max(self._starts[i] + (target - self._before[i]), start))

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """`hours` of working time after `start`; outside working time counting starts later."""
        return self.add_working_time(start, timedelta(hours=hours))


def fetch(policy_dir: Path, pack: str, *, around: date) -> WorkingCalendar:
    """The pack's calendar from `BEFORE_DAYS` before `around` to `AFTER_DAYS` after it."""
    first = around - timedelta(days=BEFORE_DAYS)
    command = [
        *(sys.executable, "-m", "sla.tools.calendar", "--policy-dir", str(policy_dir)),
        *("--pack", pack, "--from", first.isoformat()),
        *("--days", str(BEFORE_DAYS + AFTER_DAYS + 1)),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        reason = done.stderr.strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        raise ValueError(f"the SLA's calendar tool failed: {reason[0]}")
    return WorkingCalendar(WorkingPeriods.model_validate_json(done.stdout))
