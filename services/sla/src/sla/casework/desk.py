"""The staff desk of the case API: who may record what, the checks an action passes, publishing.

An action is checked against the stored case with the same pure state machine the lifecycle
consumer runs, then published as `CaseActionTaken` on `complaints.lifecycle.v1`; the consumer
applies it, and the client polls the answer's Location until it reads `applied`. Actions are
idempotent on the client's `action_id`. The actor is the staff member the API key belongs to.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from contracts import (
    ActorRole,
    CaseAction,
    CaseActionTaken,
    LifecycleAction,
    Verdict,
)
from servicekit.clock import Clock
from sla.casework.access import Desk, act_refusal, may_see
from sla.casework.bodies import ActionApplied, ActionPending, ActionRequest, ApiProblemError
from sla.casework.extensions import capped_extension
from sla.casework.masking import masked
from sla.casework.submissions import INCOMPLETE, applied_entry, request_digest, reuse
from sla.domain import BusinessCalendar, HistoryEntry, Refusal, SlaPolicy, apply_action
from sla.ports import CaseStore, Publish, Submission
from sla.settings import Role, StaffKey

log = logging.getLogger(__name__)
SOURCE = "/complaints/case-api"
PREFIX = "/cases"
A = LifecycleAction

# Who may record what (docs/case-api.md): handlers work their cases; leads also dispatch, close
# and reopen; managers also extend deadlines and close a case as malicious.
_CASEWORK = frozenset(
    {
        A.ACKNOWLEDGED,
        A.CONTACTED,
        A.CONTACT_FAILED,
        A.AWAITING_CUSTOMER,
        A.CUSTOMER_REPLIED,
        A.RESOLVED,
        A.CALLBACK_DONE,
        A.HANDOVER_REQUESTED,  # 首问负责: the owner asks; the receiving department answers
        A.HANDOVER_ACCEPTED,
        A.HANDOVER_DECLINED,
    }
)
PERMITTED: dict[Role, frozenset[LifecycleAction]] = {
    Role.HANDLER: _CASEWORK,
    # A withdrawal ends the case: the customer's request, confirmed by a lead (issue 20).
    Role.LEAD: _CASEWORK
    | {A.ASSIGNED, A.CLOSED, A.REOPENED, A.REGRADED, A.COMPLEXITY_MARKED, A.WITHDRAWN},
    Role.MANAGER: frozenset(LifecycleAction),
    Role.AUDITOR: frozenset(),  # reads the access log only (issue 20)
}
MANAGER_VERDICTS = frozenset({Verdict.MALICIOUS})
_ROLED = frozenset({A.REGRADED, A.COMPLEXITY_MARKED})  # the contract carries the actor's role


def role_refusal(role: Role, action: LifecycleAction, verdict: Verdict | None) -> str | None:
    """Why `role` may not record `action` (with `verdict`), or None if it may."""
    if action not in PERMITTED[role]:
        return f"a {role.value} may not record `{action.value}`"
    if action is A.CLOSED and verdict in MANAGER_VERDICTS and role is not Role.MANAGER:
        return f"only a manager may close a case as `{verdict.value}`"
    return None


def _incomplete(request: ActionRequest) -> tuple[str, str] | None:
    """What a regrade or a complexity mark lacks (the contract would refuse it), if anything."""
    if request.action is A.REGRADED and (request.regrade is None or not request.reason):
        return "regrade_incomplete", "name the corrected decision (`regrade`) and why (`reason`)"
    if request.action is A.COMPLEXITY_MARKED and request.complex is None:
        return "complexity_incomplete", "say `complex`: true or false"
    return None


def _location(complaint_id: str, action_id: str) -> str:
    return f"{PREFIX}/{complaint_id}/actions/{action_id}"


@dataclass
class CaseDesk:
    """Takes staff actions: role, idempotency and state-machine checks, then publishing."""

    cases: CaseStore
    policy: SlaPolicy
    calendar: BusinessCalendar
    publish: Publish
    clock: Clock
    # Counted per action in metrics; one log line per action would flood INFO at staff rates.
    published: Callable[[LifecycleAction], None] = field(default=lambda _: None)

    async def submit(
        self, complaint_id: str, request: ActionRequest, who: StaffKey
    ) -> ActionPending | ActionApplied:
        """Publish the action if the case's state allows it, or say what it already did."""
        if (why := role_refusal(who.role, request.action, request.verdict)) is not None:
            raise ApiProblemError(403, "forbidden_for_role", why)
        if (lacks := _incomplete(request)) is not None:
            raise ApiProblemError(422, *lacks)
        record = await self.cases.load(complaint_id, log=False)  # the log is not needed here
        if record is None:
            raise ApiProblemError(404, "unknown_case", "no classified complaint with this id")
        if refused := act_refusal(who, Desk.of(record), request.action, request.reason):
            raise ApiProblemError(*refused)
        case, action_id = record.case, request.action_id
        digest = request_digest(request.model_dump(mode="json"), who.staff_id)
        if (why := reuse(record, action_id, request.action, digest)) is not None:
            raise ApiProblemError(409, "action_id_reused", why, case.state)
        if (done := applied_entry(record, action_id)) is not None:
            return self._applied(complaint_id, done)
        if (by_consumer := record.refusals.get(action_id)) is not None:
            raise ApiProblemError(409, *by_consumer, case.state)  # as its poll says
        if (taken := record.submissions.get(action_id)) is None:
            action = self._action(complaint_id, request, who, self.clock.now())
            outcome = apply_action(case, action, policy=self.policy, calendar=self.calendar)
            outcome = capped_extension(record, outcome, policy=self.policy, calendar=self.calendar)
            if isinstance(outcome, Refusal):
                status = 422 if outcome.reason in INCOMPLETE else 409
                raise ApiProblemError(status, outcome.reason, outcome.detail, outcome.state)
            mine = Submission(digest, action.occurred_at)
            taken = await self.cases.record_submission(complaint_id, action_id, mine) or mine
            if (why := reuse(record, action_id, request.action, digest, taken)) is not None:
                raise ApiProblemError(409, "action_id_reused", why, case.state)  # another replica
        # New, or sent again (a retry after 503, a lost answer): the same action, published again.
        action = self._action(complaint_id, request, who, taken.occurred_at)
        event = CaseActionTaken.build(
            data=action,
            subject=complaint_id,
            source=SOURCE,
            time=action.occurred_at,
            cause=action.action_id,
        )
        await self._publish(event)
        return ActionPending(
            complaint_id=complaint_id,
            action_id=action.action_id,
            action=action.action,
            event_id=event.id,
            location=_location(complaint_id, action.action_id),
        )

    def _applied(self, complaint_id: str, entry: HistoryEntry) -> ActionApplied:
        return ActionApplied(
            complaint_id=complaint_id,
            action_id=entry.action_id,
            action=entry.action,
            actor=entry.actor,
            at=self.calendar.local(entry.at),
            from_state=entry.from_state,
            to_state=entry.to_state,
        )

    def _action(
        self, complaint_id: str, request: ActionRequest, who: StaffKey, at: datetime
    ) -> CaseAction:
        return CaseAction(
            complaint_id=complaint_id,
            action=request.action,
            action_id=request.action_id,
            actor=who.staff_id,
            occurred_at=at,
            assignee=request.assignee,
            department=request.department,
            note=masked(request.note),
            result=masked(request.result),
            satisfaction=request.satisfaction,
            verdict=request.verdict,
            evidence=request.evidence,
            root_cause=masked(request.root_cause),
            reason=masked(request.reason),
            clock=request.clock,
            extend_by_hours=request.extend_by_hours,
            approver=request.approver,
            regrade=request.regrade if request.action is A.REGRADED else None,
            complex=request.complex if request.action is A.COMPLEXITY_MARKED else None,
            calendar_version=request.calendar_version,
            actor_role=ActorRole(who.role.value) if request.action in _ROLED else None,
        )

    async def _publish(self, event: CaseActionTaken) -> None:
        fields = {"complaint_id": event.subject, "action": event.data.action.value}
        try:
            await self.publish([event])
        except Exception as exc:
            log.exception("case action not published", extra={"fields": fields})
            detail = "the action could not be published; send it again with the same action_id"
            raise ApiProblemError(503, "unavailable", detail) from exc
        self.published(event.data.action)
        log.debug("case action published", extra={"fields": fields | {"actor": event.data.actor}})

    async def result(
        self, complaint_id: str, action_id: str, who: StaffKey
    ) -> ActionPending | ActionApplied:
        """Applied (with what it did), refused, still pending, or never sent (404)."""
        record = await self.cases.load(complaint_id, log=False)  # the log is not needed here
        if record is None:
            raise ApiProblemError(404, "unknown_case", "no classified complaint with this id")
        if not may_see(who, Desk.of(record)):
            raise ApiProblemError(403, "not_your_case", "the case is neither yours nor your team's")
        if (done := applied_entry(record, action_id)) is not None:
            return self._applied(complaint_id, done)
        if (refused := record.refusals.get(action_id)) is not None:
            # The consumer refused it after the desk's own check (e.g. a race with the SMS).
            raise ApiProblemError(409, refused[0], refused[1], record.case.state)
        if action_id not in record.submissions:
            raise ApiProblemError(404, "unknown_action", "no action with this id was sent")
        return ActionPending(
            complaint_id=complaint_id,
            action_id=action_id,
            location=_location(complaint_id, action_id),
        )
