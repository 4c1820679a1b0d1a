"""Counting time in a clock's unit: natural time for h / d, working time for wh / wd."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sla.domain.calendar import BusinessCalendar
from sla.domain.policy import ClockSpec, Duration, Unit


def is_working_unit(unit: Unit) -> bool:
    """Whether only working time counts in `unit`."""
    return unit in ("wh", "wd")


def due_for(*, start: datetime, spec: ClockSpec, calendar: BusinessCalendar) -> datetime:
    """When a clock of `spec` started at `start` is due (its non-working-day amount when it
    starts on a day off)."""
    duration = spec.duration
    if spec.non_working_day is not None and not calendar.is_working_day(
        calendar.local(start).date()
    ):
        duration = spec.non_working_day
    return due_after(start=start, duration=duration, calendar=calendar)


def due_after(*, start: datetime, duration: Duration, calendar: BusinessCalendar) -> datetime:
    """`duration` after `start` as its unit counts time; `sd` is the end of the start's day."""
    if duration.unit == "sd":
        day = calendar.local(start).date() + timedelta(days=1)
        return datetime.combine(day, time.min, calendar.tz)
    if duration.unit == "wd":
        return calendar.add_working_days(start, int(duration.amount))
    if duration.unit == "wh":
        return calendar.add_working_hours(start, duration.amount)
    return calendar.add_natural(start, duration.natural())


def measure(*, start: datetime, end: datetime, unit: Unit, calendar: BusinessCalendar) -> timedelta:
    """Time between two instants as the unit counts it (working time for wh / wd)."""
    if is_working_unit(unit):
        return calendar.working_time_between(start, end)
    return end - start


def advance(
    *, start: datetime, amount: timedelta, unit: Unit, calendar: BusinessCalendar
) -> datetime:
    """`amount` after `start`, counted as the unit counts time."""
    if is_working_unit(unit):
        return calendar.add_working_time(start, amount)
    return calendar.add_natural(start, amount)


def length(*, duration: Duration, calendar: BusinessCalendar) -> timedelta:
    """A duration as an amount of time in its own measure (a working day = its working hours)."""
    if duration.unit == "wd":
        return calendar.working_day_length * duration.amount
    if duration.unit == "wh":
        return timedelta(hours=duration.amount)
    return duration.natural()
