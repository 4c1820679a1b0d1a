"""What a pause for the customer, its resume and an approved extension do to the running clocks.

Pure steps of a `SheetChange` (`effects`): a pause plans every pausable clock as if it lasts its
whole cap and keeps the pre-pause plan; the resume moves each from that plan by the credited
pause; an extension moves a clock's due (and its pre-pause plan) later. Each is announced.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from contracts import ClockName, SlaEventKind
from sla.clocks.sheet import as_deadline, with_plan
from sla.clocks.upgrades import pause_upgrades, resume_upgrades
from sla.domain import Transition, extend_deadline, pause_cap_ends_at, shift_for_pause

if TYPE_CHECKING:
    from sla.casework.effects import SheetChange


def pause(change: SheetChange, step: Transition) -> None:
    """Plan every running clock as if the pause lasts its whole cap; the resume corrects it."""
    at = change.action.occurred_at
    cap_end = pause_cap_ends_at(case=step.case, policy=change.policy, calendar=change.calendar)
    assert cap_end is not None  # noqa: S101 - the case was just paused
    for e in change.running():
        if e.pause_base is not None or e.due_at <= at:
            continue  # already paused, or already breached: a breach keeps escalating
        if e.clock is not None and not change.policy.pausable(e.clock):
            continue  # an outer limit (MIIT's 15 days) runs on while the customer is awaited
        moved = shift_for_pause(
            deadline=as_deadline(e), paused_at=at, resumed_at=cap_end, calendar=change.calendar
        )
        change.put(replace(with_plan(e, moved), pause_base=(e.due_at, e.thresholds)))
    # Upgrades count only time attributable to us (Vanke T12/T13).
    change.put(*pause_upgrades(change.sheet, paused_at=at, planned_until=cap_end))
    change.event(SlaEventKind.PAUSED)


def resume(change: SheetChange, step: Transition) -> None:
    """Move each paused clock from its pre-pause plan by the credited (capped) pause."""
    credit = step.pause
    assert credit is not None  # noqa: S101 - only called for a finished pause
    for e in change.running():
        if e.pause_base is None:
            continue
        base = replace(e, due_at=e.pause_base[0], thresholds=e.pause_base[1], pause_base=None)
        moved = shift_for_pause(
            deadline=as_deadline(base),
            paused_at=credit.paused_at,
            resumed_at=credit.credited_until,
            calendar=change.calendar,
        )
        gained = (moved.due_at - base.due_at).total_seconds()
        change.put(replace(with_plan(base, moved), paused_seconds=e.paused_seconds + gained))
    credited = credit.credited_until - credit.paused_at
    change.put(*resume_upgrades(change.sheet, credited=credited))
    change.event(SlaEventKind.RESUMED)


def extend(change: SheetChange, clock: ClockName, hours: float) -> None:
    """An approved extension moves the clock's due (and its pre-pause plan) later."""
    for e in change.running(clock):
        plan = with_plan(
            e, extend_deadline(deadline=as_deadline(e), hours=hours, calendar=change.calendar)
        )
        if e.pause_base is not None:
            base = replace(e, due_at=e.pause_base[0], thresholds=e.pause_base[1])
            later = extend_deadline(
                deadline=as_deadline(base), hours=hours, calendar=change.calendar
            )
            plan = replace(plan, pause_base=(later.due_at, with_plan(base, later).thresholds))
        plan = replace(plan, extended_hours=e.extended_hours + hours)
        change.put(plan)
        change.event(SlaEventKind.EXTENDED, plan)
