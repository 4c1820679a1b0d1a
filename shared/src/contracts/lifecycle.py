"""Staff-side actions on a case, and the SLA service's answer to illegal ones."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import AwareDatetime, Field, model_validator

from contracts.envelope import Event, Model
from contracts.topics import Topic
from contracts.values import (
    CaseState,
    ClockName,
    ComplaintId,
    FlagName,
    Kind,
    Severity,
    StaffRef,
    StaffText,
    Verdict,
)


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
    REGRADED = "regraded"
    """A lead or manager corrected the classifier's kind, category, severity or flags."""
    HANDOVER_REQUESTED = "handover_requested"
    """首问负责 (001): the case's owner asks another department to take the case over."""
    HANDOVER_ACCEPTED = "handover_accepted"
    """The receiving department's staff took the case over: they own it from now."""
    HANDOVER_DECLINED = "handover_declined"
    """The receiving department's staff refused it (with a reason): the owner keeps the case."""
    COMPLEXITY_MARKED = "complexity_marked"
    """A lead or manager marked the case complex (or not): clocks the pack keys on it re-plan."""
    CALENDAR_REPLANNED = "calendar_replanned"
    """A manager re-planned the open deadlines on a changed business calendar (`sla replan`)."""


class ActorRole(StrEnum):
    """The acting staff member's role, where an action needs one (`regraded`)."""

    HANDLER = "handler"
    LEAD = "lead"
    MANAGER = "manager"


REGRADE_ROLES = frozenset({ActorRole.LEAD, ActorRole.MANAGER})
"""Who may regrade a complaint or mark it complex (the people who run the desk, not the handler)."""


class Regrade(Model):
    """The corrected decision recorded by a `regraded` action (reason: `CaseAction.reason`)."""

    kind: Kind
    category: str | None = Field(
        None,
        max_length=120,
        pattern=r"^[a-z][a-z0-9_]*(?:/[a-z][a-z0-9_]*)?$",
        description="Corrected category path, e.g. billing/overcharge; none for non-complaints.",
    )
    severity: Severity | None = Field(None, description="Corrected level; none for non-complaints.")
    flags: list[FlagName] = Field(default_factory=list, max_length=16, description="All flags.")

    @model_validator(mode="after")
    def _complaints_have_a_grade(self) -> Regrade:
        """A complaint needs a category and a level; an enquiry or routed report has neither."""
        complaint = self.kind is Kind.COMPLAINT
        if complaint and (self.category is None or self.severity is None):
            raise ValueError("a complaint regrade needs a category and a severity")
        if not complaint and (self.category is not None or self.severity is not None):
            raise ValueError(f"a `{self.kind.value}` regrade has no category or severity")
        return self


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
    # Not StaffRef: ids derived from other events (a receipt's notification id) keep their bytes.
    action_id: str = Field(
        max_length=1000, description="Client-chosen id; the same id twice is one action."
    )
    actor: StaffRef = Field(description="Staff id or system name that acted.")
    occurred_at: AwareDatetime = Field(description="When the action happened (UTC).")
    assignee: StaffRef | None = Field(None, description="For `assigned`: the handler.")
    department: StaffRef | None = Field(
        None,
        description="For `assigned`: the handling department; for `handover_requested`: the "
        "department asked to take the case over; for `handover_accepted` / `handover_declined`: "
        "the acting staff member's department (the one that was asked).",
    )
    note: StaffText | None = Field(None, description="Free text (masked before publishing).")
    result: StaffText | None = Field(None, description="For `resolved`: the result given.")
    satisfaction: Satisfaction | None = Field(None, description="For `callback_done`.")
    verdict: Verdict | None = Field(None, description="For `closed`.")
    evidence: list[StaffRef] = Field(
        default_factory=list,
        max_length=20,
        description="For `closed` as baseless or malicious: references to the evidence recorded on "
        "the case (002 Art. 17: what cannot be verified is judged in the customer's favour).",
    )
    root_cause: StaffText | None = Field(None, description="For `closed`.")
    reason: StaffText | None = Field(
        None, description="For pauses, reopen, withdraw, extensions, hand-overs and declines."
    )
    clock: ClockName | None = Field(None, description="For `deadline_extended`: which clock.")
    extend_by_hours: float | None = Field(None, gt=0, description="For `deadline_extended`.")
    approver: StaffRef | None = Field(None, description="For `deadline_extended`: who approved.")
    actor_role: ActorRole | None = Field(
        None, description="For `regraded` and `complexity_marked`: lead or manager."
    )
    regrade: Regrade | None = Field(None, description="For `regraded`: the corrected decision.")
    complex: bool | None = Field(
        None, description="For `complexity_marked`: true marks the case complex, false unmarks it."
    )
    calendar_version: str | None = Field(
        None,
        max_length=1000,
        description="For `calendar_replanned`: the calendar version to re-plan on (the SLA "
        "service refuses the action unless it runs that calendar).",
    )

    @model_validator(mode="after")
    def _regrade_is_complete(self) -> CaseAction:
        """A regrade names its corrected decision, a reason and a lead's or manager's role; a
        complexity mark its value and a lead's or manager's role."""
        if self.action is LifecycleAction.REGRADED:
            if self.regrade is None:
                raise ValueError("a `regraded` action needs `regrade` (the corrected decision)")
            if not (self.reason or "").strip():
                raise ValueError("a `regraded` action needs a `reason`")
            if self.actor_role not in REGRADE_ROLES:
                raise ValueError("only a lead or a manager may regrade (`actor_role`)")
        elif self.regrade is not None:
            raise ValueError("`regrade` belongs to `regraded` actions only")
        if self.action is LifecycleAction.COMPLEXITY_MARKED:
            if self.complex is None:
                raise ValueError("a `complexity_marked` action needs `complex` (true or false)")
            if self.actor_role not in REGRADE_ROLES:
                raise ValueError("only a lead or a manager may mark a case complex (`actor_role`)")
        elif self.complex is not None:
            raise ValueError("`complex` belongs to `complexity_marked` actions only")
        return self


class CaseActionTaken(Event):
    """A staff-side system acted on a case."""

    topic: ClassVar[Topic] = Topic.LIFECYCLE
    type: Literal["cn.complaints.lifecycle.action.v1"] = "cn.complaints.lifecycle.action.v1"
    data: CaseAction


class ActionAnswer(Model):
    """What the SLA service's answer to an action names: the case, the action and its id."""

    schema_version: Literal[1] = Field(1, description="Version of this data schema.")
    complaint_id: ComplaintId
    action: LifecycleAction
    action_id: str


class ActionRejection(ActionAnswer):
    """Why the SLA service refused an action."""

    reason: str = Field(description="Machine-readable reason code, e.g. illegal_transition.")
    detail: str = Field(description="Human-readable explanation.")
    state: str | None = Field(None, description="The case state when the action arrived.")


class CaseActionRejected(Event):
    """An action was illegal in the case's state and was not applied."""

    topic: ClassVar[Topic] = Topic.LIFECYCLE
    type: Literal["cn.complaints.lifecycle.rejected.v1"] = "cn.complaints.lifecycle.rejected.v1"
    data: ActionRejection


class CaseTransition(ActionAnswer):
    """An action the SLA service accepted, and the state it moved the case to."""

    actor: str = Field(description="Staff id or system name that acted.")
    occurred_at: AwareDatetime = Field(description="When the action happened (UTC).")
    from_state: CaseState
    to_state: CaseState
    severity: Severity = Field(description="The case's severity when the action was applied.")
    assignee: str | None = Field(None, description="For `assigned`: the handler.")
    department: str | None = Field(None, description="For `assigned`: the handling department.")
    satisfaction: Satisfaction | None = Field(None, description="For `callback_done`.")
    verdict: Verdict | None = Field(None, description="For `closed`.")
    reason: str | None = Field(
        None,
        description="For `closed` as not accepted: the reason told to the customer; for "
        "`handover_requested` / `handover_declined`: why (masked).",
    )
    clock: ClockName | None = Field(None, description="For `deadline_extended`: which clock.")
    owner: str | None = Field(
        None,
        description="首问负责: the staff member who owns the case after the action (the first to "
        "act on it, until a hand-over is accepted).",
    )
    owner_department: str | None = Field(
        None, description="The owner's department, once a hand-over was accepted."
    )
    complex: bool | None = Field(None, description="For `complexity_marked`: the new mark.")
    review_needed: bool = Field(
        False,
        description="The complainant now needs human review (3 baseless verdicts in 365 days, "
        "or one malicious); never an automatic block.",
    )


class CaseStateChanged(Event):
    """The SLA service applied a staff action: the case moved (or the action was recorded)."""

    topic: ClassVar[Topic] = Topic.LIFECYCLE
    type: Literal["cn.complaints.lifecycle.state.v1"] = "cn.complaints.lifecycle.state.v1"
    data: CaseTransition


LifecycleEvent = Annotated[
    CaseActionTaken | CaseActionRejected | CaseStateChanged, Field(discriminator="type")
]
"""Every event on `complaints.lifecycle.v1`, told apart by `type`."""
