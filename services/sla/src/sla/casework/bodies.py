"""The case API's request and answer bodies, and the problem it answers with (docs/case-api.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from contracts import CaseState, ClockName, LifecycleAction, Regrade, Satisfaction, Verdict
from contracts.values import NO_CONTROL

ACTION_ID = r"^[A-Za-z0-9._:@-]{1,100}$"


# No NUL or other control characters: they would be stored, served and published as they are.
Text = Annotated[str, StringConstraints(min_length=1, max_length=2000, pattern=NO_CONTROL)]
StaffName = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NO_CONTROL)]


class Body(BaseModel):
    """Base of the API's request and answer bodies."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ActionRequest(Body):
    """A staff action; which optional fields matter depends on `action` (docs/case-api.md)."""

    action: LifecycleAction
    action_id: str = Field(
        pattern=ACTION_ID,
        description="Client-chosen id; sending the same id again is the same action.",
    )
    assignee: StaffName | None = Field(None, description="For `assigned`: the handler.")
    department: StaffName | None = Field(
        None, description="For `assigned` and hand-overs: the department (docs/case-api.md)."
    )
    note: Text | None = Field(None, description="Free text; numbers and e-mails are masked.")
    result: Text | None = Field(None, description="For `resolved`: the result given.")
    satisfaction: Satisfaction | None = Field(None, description="For `callback_done`.")
    verdict: Verdict | None = Field(None, description="For `closed`.")
    evidence: list[StaffName] = Field(
        default_factory=list,
        max_length=20,
        description="For `closed` as baseless or malicious (required): evidence references.",
    )
    root_cause: Text | None = Field(None, description="For `closed`.")
    reason: Text | None = Field(
        None,
        description="For `awaiting_customer` (required), reopen, withdraw, extensions, and "
        "`closed` as not_accepted (required: told to the customer).",
    )
    clock: ClockName | None = Field(None, description="For `deadline_extended`: which clock.")
    extend_by_hours: float | None = Field(
        None, gt=0, le=2160, description="For `deadline_extended`: hours to add (≤ 90 days)."
    )
    approver: StaffName | None = Field(None, description="For `deadline_extended`: approved by.")
    regrade: Regrade | None = Field(
        None, description="For `regraded` (lead or manager; `reason` required): the correction."
    )
    complex: bool | None = Field(None, description="For `complexity_marked` (required).")
    calendar_version: str | None = Field(
        None, max_length=1000, description="For `calendar_replanned` (manager; required)."
    )


class ActionPending(Body):
    """Published; the lifecycle consumer has not applied it yet. Poll `location`."""

    status: Literal["pending"] = "pending"
    complaint_id: str
    action_id: str
    action: LifecycleAction | None = None
    event_id: str | None = Field(None, description="Id of the published CaseActionTaken event.")
    location: str


class ActionApplied(Body):
    """The action is in the case's history: what it did."""

    status: Literal["applied"] = "applied"
    complaint_id: str
    action_id: str
    action: LifecycleAction
    actor: str
    at: AwareDatetime
    from_state: CaseState
    to_state: CaseState


class Problem(Body):
    """Why a request was not accepted."""

    reason: str = Field(description="Machine-readable code, e.g. illegal_transition.")
    detail: str = Field(description="Human-readable explanation.")
    state: CaseState | None = Field(None, description="The case's state, when it matters.")


class ApiProblemError(Exception):
    """Answer the request with `status` and a `Problem` body."""

    def __init__(
        self, status: int, reason: str, detail: str, state: CaseState | None = None
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.problem = Problem(reason=reason, detail=detail, state=state)
