"""Each case's latest state, on the compacted `complaints.cases.v1` topic (keyed by complaint id).

A downstream system bootstraps by reading the topic from the beginning (compaction keeps the
latest record per complaint) and stays current by reading on: it never reads our database. The
SLA service publishes one `CaseUpdated` after every change of a case (ADR 0011).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from contracts.envelope import Event, Model
from contracts.topics import Topic
from contracts.values import CaseState, Channel, ClockName, ClockStatus, ComplaintId, Severity

ShownClockStatus = Literal[
    ClockStatus.RUNNING, ClockStatus.MET, ClockStatus.CANCELLED, ClockStatus.BREACHED
]
"""`ClockStatus` as a reader sees a clock (an upgrade's `done` is never shown): the cases topic
and the case API carry this."""


class ClockState(Model):
    """One clock of the case as it stands, on the cases topic: what a downstream system keeps
    (UTC times, no thresholds or local text); the case API's `ClockView` adds what staff read."""

    clock: ClockName
    occurrence: int = Field(1, description="For repeating clocks: which occurrence (1-based).")
    status: ShownClockStatus = Field(
        description="Where the clock stands (`breached`: a repeating clock's missed occurrence, "
        "closed when the next one took over)."
    )
    due_at: AwareDatetime = Field(description="When it is (or was) due (UTC), pauses credited.")
    stopped_at: AwareDatetime | None = Field(None, description="When it was met or closed.")
    breached: bool = Field(description="Whether it passed (or was met after) its due time.")


class CaseSnapshot(Model):
    """A case as it stands after its latest change: nothing personal."""

    schema_version: Literal[1] = Field(1, description="Version of this data schema.")
    complaint_id: ComplaintId
    version: int = Field(
        ge=0,
        description="The case's change counter: a higher version is a later state (a reader "
        "that sees a lower one after a higher one keeps the higher).",
    )
    state: CaseState
    severity: Severity
    channel: Channel
    category: str | None = Field(None, description="The classifier's category, if any.")
    received_at: AwareDatetime
    acknowledged: bool
    paused: bool = Field(description="Waiting on the customer: the clocks are paused.")
    owner: str | None = Field(None, description="首问负责: the staff member who owns the case.")
    assignee: str | None = Field(None, description="From the latest `assigned` action.")
    department: str | None = None
    reopen_count: int = Field(0, ge=0)
    clocks: list[ClockState] = Field(
        default_factory=list, description="Every clock occurrence of the case's sheet."
    )
    as_of: AwareDatetime = Field(
        description="When the SLA service stated this state (after the change, or republished)."
    )


class CaseUpdated(Event):
    """A case changed: its whole latest state (the compacted topic keeps the last per case)."""

    topic: ClassVar[Topic] = Topic.CASES
    type: Literal["cn.complaints.case.v1"] = "cn.complaints.case.v1"
    data: CaseSnapshot
