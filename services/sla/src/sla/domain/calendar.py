"""The business calendar: Asia/Shanghai working hours on official working days (调休 included)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sla.domain.calendar_data import HolidayData, load_holiday_data
from sla.domain.errors import PolicyError
from sla.domain.packfile import calendar_dir, naming, read_yaml_mapping, sla_file

_log = logging.getLogger(__name__)

DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_WORKING_HOURS = ("09:00-18:00",)
# A calendar with no working day for ten years is broken data, not a reason to loop forever.
_MAX_SCAN_DAYS = 3660
# Days whose periods one calendar remembers (~55 years): bounds a long what-if scan's memory.
_MAX_CACHED_DAYS = 20_000

WorkingPeriod = tuple[time, time]


def parse_working_hours(raw: Sequence[Any]) -> tuple[WorkingPeriod, ...]:
    """Parse ["09:00-12:00", "13:30-18:00"] into ordered, non-overlapping periods."""
    periods: list[WorkingPeriod] = []
    for item in raw:
        text = str(item)
        try:
            start_text, end_text = (part.strip() for part in text.split("-"))
            start, end = time.fromisoformat(start_text), time.fromisoformat(end_text)
        except ValueError as exc:
            raise PolicyError(f"working hours {text!r} must look like 09:00-18:00") from exc
        if start >= end:
            raise PolicyError(f"working hours {text!r} end before they start")
        if periods and start < periods[-1][1]:
            raise PolicyError(f"working hours {text!r} overlap or are out of order")
        periods.append((start, end))
    if not periods:
        raise PolicyError("working hours must list at least one period")
    return tuple(periods)


class BusinessCalendar:
    """Working days and hours; answers unknown years with a logged weekends-only fallback."""

    def __init__(
        self, *, timezone: str, working_hours: tuple[WorkingPeriod, ...], data: HolidayData
    ) -> None:
        try:
            self.tz = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise PolicyError(f"unknown time zone {timezone!r} (is tzdata installed?)") from exc
        self.timezone = timezone
        self.working_hours = working_hours
        self._data = data
        self.version: str = data.version
        self.fallback_years: set[int] = set()
        day = timedelta(0)
        for start, end in working_hours:
            day += datetime.combine(date.min, end) - datetime.combine(date.min, start)
        self.working_day_length: timedelta = day
        # Each day's periods, computed once: the calendar's data never changes after it is built
        # (a calendar change is a new calendar, ADR 0012), and every deadline walks these days.
        self._periods: dict[date, tuple[tuple[datetime, datetime], ...]] = {}
        self._versions: dict[tuple[int, int], str] = {}

    @classmethod
    def load(cls, *, policy_dir: Path, pack: str = "telecom") -> BusinessCalendar:
        """Working hours from policies/<pack>/sla.yaml, overrides from policies/calendar/."""
        path = sla_file(policy_dir=policy_dir, pack=pack)
        section = read_yaml_mapping(path).get("calendar")
        return cls.from_section(section or {}, calendar_dir=calendar_dir(policy_dir), source=path)

    @classmethod
    def from_section(
        cls, section: dict[str, Any], *, calendar_dir: Path, source: Path | None = None
    ) -> BusinessCalendar:
        """Build from a pack's `calendar:` mapping (read from `source`) and an override
        directory; a problem with the section names `source`."""
        data = load_holiday_data(calendar_dir)  # its problems name the override file
        with naming(source) if source is not None else nullcontext():
            if not isinstance(section, dict):
                raise PolicyError("`calendar` must be a mapping")
            hours = section.get("working_hours", list(DEFAULT_WORKING_HOURS))
            if not isinstance(hours, list):
                raise PolicyError("`calendar.working_hours` must be a list")
            return cls(
                timezone=str(section.get("timezone", DEFAULT_TIMEZONE)),
                working_hours=parse_working_hours(hours),
                data=data,
            )

    @property
    def provisional_years(self) -> frozenset[int]:
        """Years answered from an override marked provisional (no official notice yet)."""
        return self._data.provisional_years

    def covers(self, year: int) -> bool:
        """Whether official holiday data (package or override) exists for `year`."""
        return year in self._data.covered_years

    def version_between(self, start: datetime, end: datetime) -> str:
        """The version string for a computation spanning [start, end], naming fallback years."""
        first, last = sorted((self.local(start).year, self.local(end).year))
        known = self._versions.get((first, last))
        if known is not None:
            return known
        missing = [year for year in range(first, last + 1) if not self.covers(year)]
        found = (
            f"{self.version} + weekends-only fallback {','.join(map(str, missing))}"
            if missing
            else self.version
        )
        self._versions[(first, last)] = found  # a calendar's years never change (ADR 0012)
        return found

    def local(self, moment: datetime) -> datetime:
        """`moment` in the calendar's time zone; naive datetimes are refused."""
        if moment.tzinfo is self.tz:
            return moment  # already local: what `astimezone` would return, without its work
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("the business calendar needs timezone-aware datetimes")
        return moment.astimezone(self.tz)

    def is_working_day(self, day: date) -> bool:
        """Official working day: weekday not on holiday, or a weekend makeup workday (补班)."""
        if not self.covers(day.year):
            if day.year not in self.fallback_years:
                self.fallback_years.add(day.year)
                _log.warning(
                    "business calendar has no holiday data for %d: weekends-only fallback", day.year
                )
            return day.weekday() < 5
        if day in self._data.workdays:
            return True
        if day in self._data.holidays:
            return False
        return day.weekday() < 5

    def periods(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working periods of `day` as aware datetimes (none on a non-working day)."""
        return list(self._day_periods(day))

    def _day_periods(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """`periods`, computed once per day and shared: the arithmetic below walks these."""
        known = self._periods.get(day)
        if known is not None:
            return known
        found = (
            tuple(
                (datetime.combine(day, start, self.tz), datetime.combine(day, end, self.tz))
                for start, end in self.working_hours
            )
            if self.is_working_day(day)
            else ()
        )
        if len(self._periods) >= _MAX_CACHED_DAYS:
            self._periods.clear()
        self._periods[day] = found
        return found

    def _days_from(self, day: date) -> Iterator[date]:
        for offset in range(_MAX_SCAN_DAYS):
            yield day + timedelta(days=offset)
        raise PolicyError(f"no working time within {_MAX_SCAN_DAYS} days of {day}")

    def is_working_time(self, moment: datetime) -> bool:
        """Whether `moment` lies inside a working period (both ends included)."""
        local = self.local(moment)
        return any(start <= local <= end for start, end in self._day_periods(local.date()))

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """The instant after `amount` of working time from `start` (idle time skipped)."""
        if amount < timedelta(0):
            raise ValueError("working time to add must not be negative")
        cursor = self.local(start)
        remaining = amount
        for day in self._days_from(cursor.date()):
            for period_start, period_end in self._day_periods(day):
                # A period ending exactly at the cursor still takes a zero-length remainder, so
                # adding nothing at 18:00 stays at 18:00 instead of jumping to the next morning.
                if cursor > period_end or (cursor == period_end and remaining > timedelta(0)):
                    continue
                begin = max(period_start, cursor)
                available = period_end - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
        raise AssertionError("unreachable: _days_from raises first")  # pragma: no cover

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """`hours` of working time after `start`; outside working time counting starts later."""
        return self.add_working_time(start, timedelta(hours=hours))

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """End of working hours on the `days`-th working day after the day of `start`."""
        if days < 0:
            raise ValueError("working days to add must not be negative")
        day = self.local(start).date()
        if days == 0:
            # Zero days: the day itself if it is a working day, else the next one.
            day -= timedelta(days=1)
            days = 1
        counted = 0
        for candidate in self._days_from(day + timedelta(days=1)):
            if self.is_working_day(candidate):
                counted += 1
                if counted == days:
                    return self._day_periods(candidate)[-1][1]
        raise AssertionError("unreachable: _days_from raises first")  # pragma: no cover

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time inside [start, end]; zero when `end` is not after `start`."""
        first, last = self.local(start), self.local(end)
        total = timedelta(0)
        if last <= first:
            return total
        for day in self._days_from(first.date()):
            if day > last.date():
                return total
            for period_start, period_end in self._day_periods(day):
                overlap = min(period_end, last) - max(period_start, first)
                if overlap > timedelta(0):
                    total += overlap
        raise AssertionError("unreachable: _days_from raises first")  # pragma: no cover

    def add_natural(self, start: datetime, amount: timedelta) -> datetime:
        """Elapsed (wall) time: computed in UTC so offsets never skew it, shown in local time."""
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError("the business calendar needs timezone-aware datetimes")
        return (start.astimezone(UTC) + amount).astimezone(self.tz)
