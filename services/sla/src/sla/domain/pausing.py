"""Pause accounting: clocks stop while the case waits for the customer, up to the policy cap."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sla.domain.calendar import BusinessCalendar
from sla.domain.case import Case, PauseCredit
from sla.domain.errors import PolicyError
from sla.domain.policy import SlaPolicy
from sla.domain.timing import advance, length, measure


def _calendar(*, policy: SlaPolicy, calendar: BusinessCalendar | None) -> BusinessCalendar:
    chosen = calendar or policy.calendar
    if chosen is None:
        raise PolicyError("pause accounting needs a business calendar (pass calendar=)")
    return chosen


def pause_cap_ends_at(
    *, case: Case, policy: SlaPolicy, calendar: BusinessCalendar | None = None
) -> datetime | None:
    """When a running pause stops counting (the cap is used up); clocks run again from then."""
    if case.paused_at is None:
        return None
    cal = _calendar(policy=policy, calendar=calendar)
    cap = length(duration=policy.pause_cap, calendar=cal)
    remaining = max(cap - case.paused_total, timedelta(0))
    return advance(start=case.paused_at, amount=remaining, unit=policy.pause_cap.unit, calendar=cal)


def end_pause(
    *, case: Case, resumed_at: datetime, policy: SlaPolicy, calendar: BusinessCalendar | None
) -> tuple[Case, PauseCredit | None]:
    """Close a running pause: credit the waited time up to the cap, and say which window."""
    if case.paused_at is None:
        return case, None
    cal = _calendar(policy=policy, calendar=calendar)
    cap_end = pause_cap_ends_at(case=case, policy=policy, calendar=cal)
    assert cap_end is not None  # noqa: S101 - paused_at is set, so the cap end exists
    until = max(min(resumed_at, cap_end), case.paused_at)
    used = measure(start=case.paused_at, end=until, unit=policy.pause_cap.unit, calendar=cal)
    credit = PauseCredit(
        paused_at=case.paused_at,
        resumed_at=resumed_at,
        credited_until=until,
        capped=until < resumed_at,
    )
    after = replace(case, paused_at=None, pause_reason=None, paused_total=case.paused_total + used)
    return after, credit
