"""What a regrade or a complexity mark changes in the facts a case's clocks are planned on:
the category and complexity mark their amounts are keyed on, and the flags their audiences and
overlays follow (issue 16: a lead's corrected flags reach the case, not only the severity)."""

from __future__ import annotations

from contracts import CaseAction, FlagName, Kind, LifecycleAction
from sla.clocks.replan import Keys
from sla.domain import Transition
from sla.ports import CaseRecord


def keys_of(record: CaseRecord) -> Keys:
    """The case's category and complexity mark, as its clocks' amounts are keyed on them."""
    return Keys(category=record.facts.category, complex_case=record.case.complex_case)


def keys_after(record: CaseRecord, action: CaseAction, step: Transition) -> Keys:
    """The keys once the action applied: a complaint regrade's category, the new mark."""
    regrade = action.regrade
    category = regrade.category if regrade and regrade.category else record.facts.category
    return Keys(category=category, complex_case=step.case.complex_case)


def new_flags(record: CaseRecord, action: CaseAction) -> tuple[FlagName, ...] | None:
    """A complaint regrade's flags when they differ from the stored ones (a regrade names the
    whole corrected set: a flag it leaves out is one the lead took away)."""
    regrade = action.regrade
    if action.action is not LifecycleAction.REGRADED or regrade is None:
        return None
    if regrade.kind is not Kind.COMPLAINT:
        return None
    flags = tuple(dict.fromkeys(regrade.flags))
    return flags if set(flags) != set(record.facts.flags) else None
