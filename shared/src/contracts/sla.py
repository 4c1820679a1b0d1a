"""Deadline events published by the SLA service."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from contracts.envelope import Event, Model
from contracts.topics import Topic
from contracts.values import Audience, ClockName, ComplaintId, Severity


class SlaEventKind(StrEnum):
    """What happened to a clock."""

    SET = "set"
    WARNED = "warned"
    BREACHED = "breached"
    ESCALATED = "escalated"
    MET = "met"
    UPGRADED = "upgraded"
    PAUSED = "paused"
    RESUMED = "resumed"
    EXTENDED = "extended"
    CANCELLED = "cancelled"
    REPLANNED = "replanned"
    """A changed business calendar moved the clock's due (`complaints sla replan --apply`)."""


class DeadlineView(Model):
    """One clock's deadline as promised: in the `set` event, and as a case row's next due in the
    case API (one view of a due clock, not one per carrier)."""

    clock: ClockName
    due_at: AwareDatetime = Field(
        description="When the clock is due (UTC in events; the case API shows Shanghai's offset)."
    )
    due_at_local: str = Field(description="The same in Asia/Shanghai, for messages to people.")
    occurrence: int = Field(1, description="For repeating clocks: which occurrence (1-based).")
    provisional: bool = Field(False, description="Computed on a provisional calendar year.")


class SlaChange(Model):
    """A change to one complaint's clocks."""

    schema_version: Literal[1] = Field(1, description="Version of this data schema.")
    complaint_id: ComplaintId
    event: SlaEventKind
    severity: Severity
    clock: ClockName | None = Field(None, description="The clock concerned (none for `set`).")
    occurrence: int = Field(1, description="For repeating clocks: which occurrence.")
    threshold: int | None = Field(
        None, description="Percent of the clock's duration reached: 50, 80, 100, 150."
    )
    due_at: AwareDatetime | None = Field(None, description="The clock's due time (UTC).")
    audiences: list[Audience] = Field(default_factory=list, description="Who must be told.")
    deadlines: list[DeadlineView] = Field(
        default_factory=list, description="For `set`: every clock started at receipt."
    )
    previous_severity: Severity | None = Field(None, description="For `upgraded`.")
    policy_version: str = Field(description="Policy pack version the deadline was computed with.")
    calendar_version: str = Field(description="Business calendar version used.")
    fired_at: AwareDatetime | None = Field(None, description="When the scheduler fired it.")
    provisional: bool = Field(
        False,
        description="The due time was computed on a calendar year whose holiday data is "
        "provisional (no official State Council notice yet): it may move.",
    )
    previous_due_at: AwareDatetime | None = Field(
        None, description="For `replanned`: the due time before the calendar changed."
    )
    previous_calendar_version: str | None = Field(
        None, description="For `replanned`: the calendar version the old due was computed with."
    )


class SlaChanged(Event):
    """A clock was set, warned, breached, escalated, met, upgraded, paused or resumed."""

    topic: ClassVar[Topic] = Topic.SLA
    type: Literal["cn.complaints.sla.v1"] = "cn.complaints.sla.v1"
    data: SlaChange
