"""The pack's caps on approved deadline extensions, in natural time (issue 21).

An extension adds hours in the clock's own measure (working hours for a `wh` / `wd` clock), so
how far it really moves a due depends on the calendar: 2,160 working hours is most of a year.
The pack caps what matters to the customer, the natural time a due moves, for one extension
(`extensions.max_each`) and for all of a case's extensions together (`extensions.max_total`).
The desk checks it before publishing (a 409 with the reason), the lifecycle consumer again
when it applies the action (two extensions sent at once cannot both pass).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sla.clocks.sheet import as_deadline
from sla.domain import BusinessCalendar, Refusal, SlaPolicy, Transition, extend_deadline
from sla.ports import CaseRecord


def _hours(span: timedelta) -> str:
    return f"{span.total_seconds() / 3600:g} h"


def capped_extension(
    record: CaseRecord,
    step: Transition | Refusal,
    *,
    policy: SlaPolicy,
    calendar: BusinessCalendar,
) -> Transition | Refusal:
    """The transition with the case's extension total grown, or why the pack refuses it."""
    if isinstance(step, Refusal) or step.extension is None:
        return step
    clock, hours = step.extension
    moves = [
        extend_deadline(deadline=as_deadline(e), hours=hours, calendar=calendar).due_at - e.due_at
        for e in record.clocks
        if e.running and e.clock is clock
    ]
    moved = max(moves, default=timedelta(0))
    state = record.case.state
    if moved > policy.extension_cap:
        detail = (
            f"{hours:g} h of `{clock.value}` would move its due {_hours(moved)} later; one"
            f" extension may move it at most {_hours(policy.extension_cap)} (natural time)"
        )
        return Refusal("extension_too_long", detail, state)
    total = record.case.extended_total + moved
    if total > policy.extension_total_cap:
        left = max(policy.extension_total_cap - record.case.extended_total, timedelta(0))
        detail = (
            f"this case's extensions would move its dues {_hours(total)} in all; the pack allows"
            f" {_hours(policy.extension_total_cap)} per case, {_hours(left)} are left"
        )
        return Refusal("extensions_exhausted", detail, state)
    return replace(step, case=replace(step.case, extended_total=total))
