"""What the case API's read endpoints answer: a case with its clocks, receipts and history, and
pages of case rows (frozen, documented in the OpenAPI schema)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts import (
    Audience,
    CaseState,
    Channel,
    ClockName,
    DeadlineView,
    DeliveryStatus,
    FlagName,
    LifecycleAction,
    Satisfaction,
    Severity,
    Verdict,
)
from contracts.cases import ShownClockStatus
from sla.ports import CaseFacts
from sla.privacy.contact import ContactView


class View(BaseModel):
    """Base of the query answers: frozen, documented in the OpenAPI schema."""

    model_config = ConfigDict(frozen=True)


class EarlierView(View):
    """Earlier closed occurrences of a repeating clock, kept as counts (the sheet stays small)."""

    met_on_time: int
    met_late: int
    breached: int


class ClockView(View):
    """One occurrence of one clock of a case, as staff read it: `contracts.ClockState` plus the
    local due text, the share used, the fired thresholds and earlier occurrences."""

    clock: ClockName
    occurrence: int = Field(description="For repeating clocks: which occurrence (1-based).")
    round: int = Field(description="Restarts of the clock (reopening, another resolution).")
    status: ShownClockStatus
    started_at: AwareDatetime
    due_at: AwareDatetime = Field(description="Current due time (moved by pauses, extensions).")
    due_at_local: str = Field(description="The due time as Shanghai wall-clock text.")
    used_percent: int = Field(
        description="Share of the clock's span (start → due, in its unit) gone by: now for a "
        "running clock, at the pause for a paused one, at the stop for a stopped one."
    )
    paused: bool = Field(description="The case waits for the customer; the clock stands still.")
    overdue: bool = Field(description="Running past its due time.")
    breached: bool = Field(description="The breach (100 %) was announced.")
    fired: list[int] = Field(description="Thresholds announced so far: 50, 80, 100, 150.")
    outcome: Literal["on_time", "late"] | None = Field(
        description="For a met clock: whether its goal was reached by the due time."
    )
    stopped_at: AwareDatetime | None = None
    earlier: EarlierView | None = Field(
        None, description="For a repeating clock: its earlier closed occurrences, counted."
    )
    policy_version: str
    calendar_version: str
    provisional: bool = Field(
        description="The due time was computed on a provisional calendar year (it may move)."
    )


class ReceiptView(View):
    """What became of one notification about the case (no recipient, no text)."""

    notification_id: str
    audience: Audience
    channel: str
    template: str
    status: DeliveryStatus
    at: AwareDatetime


class HistoryView(View):
    """One applied staff (or system) action."""

    action_id: str
    action: LifecycleAction
    actor: str
    at: AwareDatetime
    from_state: CaseState
    to_state: CaseState
    reason: str | None = None


class HandoverView(View):
    """One hand-over request (首问负责) and its answer."""

    action_id: str
    department: str = Field(description="The department asked to take the case over.")
    reason: str
    requested_by: str
    requested_at: AwareDatetime
    status: Literal["pending", "accepted", "declined"]
    decided_by: str | None = None
    decided_at: AwareDatetime | None = None
    decision_reason: str | None = None


class CaseHead(View):
    """What a case shows in a list and atop its own page."""

    complaint_id: str
    state: CaseState
    severity: Severity = Field(description="Current severity (time-based upgrades included).")
    category: str | None
    channel: Channel
    flags: list[FlagName]
    assignee: str | None
    department: str | None
    received_at: AwareDatetime


def case_head(
    facts: CaseFacts,
    state: CaseState,
    severity: Severity,
    assignee: str | None,
    department: str | None,
) -> dict[str, Any]:
    """The fields of `CaseHead` a case's facts and standing give (`received_at` is the
    caller's: shown in its time zone)."""
    return {
        "complaint_id": facts.complaint_id,
        "state": state,
        "severity": severity,
        "category": facts.category,
        "channel": facts.channel,
        "flags": list(facts.flags),
        "assignee": assignee,
        "department": department,
    }


class CaseView(CaseHead):
    """A case with its state, clocks, notifications and full action history."""

    severity_at_receipt: Severity | None
    paused_at: AwareDatetime | None = Field(description="Set while the case waits.")
    pause_reason: str | None
    contact_failures: int
    callback_failures: int
    callback_answer: Satisfaction | None
    verdict: Verdict | None
    reopen_count: int
    complex: bool = Field(description="Marked complex by a lead or manager (`complexity_marked`).")
    owner: str | None = Field(
        description="首问负责: who owns the case — the first to act on it, until a hand-over is "
        "accepted by the receiving department's staff."
    )
    owner_department: str | None = Field(description="The owner's department after a hand-over.")
    handovers: list[HandoverView] = Field(description="Hand-over requests, oldest first.")
    clocks: list[ClockView]
    notifications: list[ReceiptView]
    history: list[HistoryView]
    contact: ContactView | None = Field(
        None,
        description="The customer's phone, name and address, masked; unmasked only through "
        "`POST /cases/{id}/contact/reveal` (logged). None when no contact is held.",
    )


class CaseRow(CaseHead):
    """A case in a list."""

    next_due: DeadlineView | None = Field(description="The running clock due first (pauses aside).")
    overdue: list[ClockName] = Field(description="Running clocks past their due time.")


class CasePage(View):
    """One page of a case list."""

    items: list[CaseRow]
    page_size: int
    next_after: str | None = Field(
        description="Send as `after` for the next page; null on the last page. (No total: "
        "counting every match would read every match.)"
    )
