"""Staff-side actions on a case, and the SLA service's answer to illegal ones."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import AwareDatetime, Field

from contracts.envelope import Event, Model
from contracts.topics import Topic
from contracts.values import CaseState, ClockName, ComplaintId, Severity, Verdict


class LifecycleAction(StrEnum):
    """What a staff system did (DOMAIN.md §6)."""

    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    CONTACTED = "contacted"
    CONTACT_FAILED = "contact_failed"
    AWAITING_CUSTOMER = "awaiting_customer"
    CUSTOMER_REPLIED = "customer_replied"
    RESOLVED = "resolved"
    CALLBACK_DONE = "callback_done"
    CLOSED = "closed"
    REOPENED = "reopened"
    WITHDRAWN = "withdrawn"
    DEADLINE_EXTENDED = "deadline_extended"


class Satisfaction(StrEnum):
    """The customer's answer at callback."""

    VERY_SATISFIED = "very_satisfied"
    """非常满意."""
    SATISFIED = "satisfied"
    DISSATISFIED = "dissatisfied"
    UNREACHABLE = "unreachable"


class CaseAction(Model):
    """One action on a case; which optional fields matter depends on `action`."""

    schema_version: Literal[1] = Field(1, description="Version of this data schema.")
    complaint_id: ComplaintId
    action: LifecycleAction
    action_id: str = Field(description="Client-chosen id; the same id twice is one action.")
    actor: str = Field(description="Staff id or system name that acted.")
    occurred_at: AwareDatetime = Field(description="When the action happened (UTC).")
    assignee: str | None = Field(None, description="For `assigned`: the handler.")
    department: str | None = Field(None, description="For `assigned`: the handling department.")
    note: str | None = Field(None, description="Free text (masked before publishing).")
    result: str | None = Field(None, description="For `resolved`: the result given.")
    satisfaction: Satisfaction | None = Field(None, description="For `callback_done`.")
    verdict: Verdict | None = Field(None, description="For `closed`.")
    root_cause: str | None = Field(None, description="For `closed`.")
    reason: str | None = Field(None, description="For pauses, reopen, withdraw, extensions.")
    clock: ClockName | None = Field(None, description="For `deadline_extended`: which clock.")
    extend_by_hours: float | None = Field(None, gt=0, description="For `deadline_extended`.")
    approver: str | None = Field(None, description="For `deadline_extended`: who approved.")


class CaseActionTaken(Event):
    """A staff-side system acted on a case."""

    topic: ClassVar[Topic] = Topic.LIFECYCLE
    event_type: ClassVar[str] = "cn.complaints.lifecycle.action.v1"
    type: Literal["cn.complaints.lifecycle.action.v1"] = "cn.complaints.lifecycle.action.v1"
    data: CaseAction


class ActionRejection(Model):
    """Why the SLA service refused an action."""

    schema_version: Literal[1] = Field(1, description="Version of this data schema.")
    complaint_id: ComplaintId
    action: LifecycleAction
    action_id: str
    reason: str = Field(description="Machine-readable reason code, e.g. illegal_transition.")
    detail: str = Field(description="Human-readable explanation.")
    state: str | None = Field(None, description="The case state when the action arrived.")


class CaseActionRejected(Event):
    """An action was illegal in the case's state and was not applied."""

    topic: ClassVar[Topic] = Topic.LIFECYCLE
    event_type: ClassVar[str] = "cn.complaints.lifecycle.rejected.v1"
    type: Literal["cn.complaints.lifecycle.rejected.v1"] = "cn.complaints.lifecycle.rejected.v1"
    data: ActionRejection


class CaseTransition(Model):
    """An action the SLA service accepted, and the state it moved the case to."""

    schema_version: Literal[1] = Field(1, description="Version of this data schema.")
    complaint_id: ComplaintId
    action: LifecycleAction
    action_id: str
    actor: str = Field(description="Staff id or system name that acted.")
    occurred_at: AwareDatetime = Field(description="When the action happened (UTC).")
    from_state: CaseState
    to_state: CaseState
    severity: Severity = Field(description="The case's severity when the action was applied.")
    assignee: str | None = Field(None, description="For `assigned`: the handler.")
    department: str | None = Field(None, description="For `assigned`: the handling department.")
    satisfaction: Satisfaction | None = Field(None, description="For `callback_done`.")
    verdict: Verdict | None = Field(None, description="For `closed`.")
    clock: ClockName | None = Field(None, description="For `deadline_extended`: which clock.")
    review_needed: bool = Field(
        False,
        description="The complainant now needs human review (3 baseless verdicts in 365 days, "
        "or one malicious); never an automatic block.",
    )


class CaseStateChanged(Event):
    """The SLA service applied a staff action: the case moved (or the action was recorded)."""

    topic: ClassVar[Topic] = Topic.LIFECYCLE
    event_type: ClassVar[str] = "cn.complaints.lifecycle.state.v1"
    type: Literal["cn.complaints.lifecycle.state.v1"] = "cn.complaints.lifecycle.state.v1"
    data: CaseTransition


LifecycleEvent = Annotated[
    CaseActionTaken | CaseActionRejected | CaseStateChanged, Field(discriminator="type")
]
"""Every event on `complaints.lifecycle.v1`, told apart by `type`."""
