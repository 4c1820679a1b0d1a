"""Who may see and act on which case (issue 20): the case API's per-case authorisation.

A handler sees and works the cases assigned to them or owned by them (首问负责: the first to act,
or whoever accepted a hand-over), their department's queue (dispatched to the
department, no handler yet) and the front desk's queue (not dispatched to any department yet:
acknowledging and first contact happen there); a lead sees and works their department's cases and
the front desk's queue (they dispatch it); a manager everything. A pending hand-over also opens
the case to the receiving department's staff, who answer it.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts import LifecycleAction
from sla.ports import CaseRecord, CaseSummary
from sla.settings import Role, StaffKey

A = LifecycleAction
HANDOVER_ANSWERS = frozenset({A.HANDOVER_ACCEPTED, A.HANDOVER_DECLINED})


class NotYourCaseError(Exception):
    """The staff member may not see this case (the API answers 403)."""


@dataclass(frozen=True)
class Desk:
    """Where a case sits: its handler, its departments (the dispatch's and, after an accepted
    hand-over, the owner's), and a department asked to take it over."""

    assignee: str | None
    departments: frozenset[str] = frozenset()
    asked: str | None = None
    owner: str | None = None  # 首问负责: the first to act, or whoever accepted a hand-over

    @classmethod
    def of(cls, record: CaseRecord) -> Desk:
        """The desk of a stored case."""
        pending = record.case.pending_handover
        both = {record.department, record.case.owner_department} - {None}
        return cls(
            record.assignee,
            frozenset(d for d in both if d is not None),
            pending.department if pending else None,
            record.case.owner,
        )

    @classmethod
    def of_row(cls, row: CaseSummary) -> Desk:
        """The desk of a list row (hand-overs aside: a list shows the case's own desk)."""
        return cls(row.assignee, frozenset({row.department} if row.department else ()))


def may_see(who: StaffKey, desk: Desk) -> bool:
    """Whether `who` may read the case."""
    if who.role is Role.MANAGER:
        return True
    if who.role is Role.AUDITOR:  # audits the access log, reads no case
        return False
    mine = who.all_departments
    asked_of_me = desk.asked in mine
    department = not desk.departments or bool(mine & desk.departments)
    if who.role is Role.LEAD:
        return department or asked_of_me
    if who.staff_id in {desk.assignee, desk.owner} or asked_of_me:
        return True
    return desk.assignee is None and department


def act_refusal(
    who: StaffKey, desk: Desk, action: LifecycleAction, reason: str | None = None
) -> tuple[int, str, str] | None:
    """(status, reason, detail) of why `who` may not record `action` (with `reason`) on the
    case, or None if they may."""
    if (why := _not_theirs(who, desk, action)) is not None:
        return 403, "not_your_case", why
    if action is A.WITHDRAWN and not reason:
        return 422, "withdrawal_needs_request", "a withdrawal records the customer's request"
    return None


def _not_theirs(who: StaffKey, desk: Desk, action: LifecycleAction) -> str | None:
    if not may_see(who, desk):
        return "the case is neither yours nor your department's"
    asked_of_me = desk.asked in who.all_departments
    if action in HANDOVER_ANSWERS and who.role is not Role.MANAGER and not asked_of_me:
        return "only the department asked to take the case over answers the hand-over"
    answering = asked_of_me and action in HANDOVER_ANSWERS
    theirs = who.staff_id in {desk.assignee, desk.owner}
    if who.role is Role.HANDLER and desk.assignee is not None and not (theirs or answering):
        return "the case is assigned to another handler"
    return None
