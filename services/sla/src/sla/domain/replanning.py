"""Re-planning a running clock: its next occurrence, a pause, an approved extension."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sla.domain.calendar import BusinessCalendar
from sla.domain.deadlines import Deadline, stamped, threshold_times
from sla.domain.policy import ClockSpec
from sla.domain.timing import advance, due_for, measure


def next_occurrence(
    *,
    deadline: Deadline,
    spec: ClockSpec,
    calendar: BusinessCalendar,
    from_time: datetime | None = None,
) -> Deadline:
    """The next occurrence of a repeating clock, from the previous due (or when it was met)."""
    start = calendar.local(from_time) if from_time is not None else deadline.due_at
    due = due_for(start=start, spec=spec, calendar=calendar)
    following = replace(
        deadline,
        occurrence=deadline.occurrence + 1,
        started_at=start,
        due_at=due,
        thresholds=threshold_times(
            started_at=start,
            due_at=due,
            unit=spec.unit,
            percents=deadline.thresholds.keys(),
            calendar=calendar,
        ),
        unit=spec.unit,
        capped_by=None,
    )
    return stamped(following, calendar=calendar)


def shift_for_pause(
    *, deadline: Deadline, paused_at: datetime, resumed_at: datetime, calendar: BusinessCalendar
) -> Deadline:
    """Move what was still ahead at `paused_at` later by the paused time, as the unit counts it.

    Pass the credited pause window from the lifecycle `Transition` (already capped by policy);
    a clock already breached when the pause began is not moved.
    """
    begin = max(calendar.local(paused_at), deadline.started_at)
    end = calendar.local(resumed_at)
    if end <= begin or begin >= deadline.due_at:
        return deadline
    lost = measure(start=begin, end=end, unit=deadline.unit, calendar=calendar)

    def moved(moment: datetime) -> datetime:
        if moment < begin:
            return moment
        return advance(start=moment, amount=lost, unit=deadline.unit, calendar=calendar)

    shifted = replace(
        deadline,
        due_at=moved(deadline.due_at),
        thresholds={pct: moved(at) for pct, at in deadline.thresholds.items()},
    )
    return stamped(shifted, calendar=calendar)


def extend_deadline(*, deadline: Deadline, hours: float, calendar: BusinessCalendar) -> Deadline:
    """An approved extension: working hours for wh / wd clocks, natural hours otherwise."""
    due = advance(
        start=deadline.due_at, amount=timedelta(hours=hours), unit=deadline.unit, calendar=calendar
    )
    extended = replace(
        deadline,
        due_at=due,
        thresholds=threshold_times(
            started_at=deadline.started_at,
            due_at=due,
            unit=deadline.unit,
            percents=deadline.thresholds.keys(),
            calendar=calendar,
        ),
    )
    return stamped(extended, calendar=calendar)
