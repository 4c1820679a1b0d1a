"""Case queries for staff systems: one case with its clocks, receipts and history; filtered lists.

Everything comes from the SLA service's own collections (cases, deadlines, case receipts). Times
are given as ISO 8601 in Asia/Shanghai (with their +08:00 offset) and, for due times, also as the
local wall-clock text people read in messages.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, cast

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts import (
    Audience,
    CaseState,
    Channel,
    ClockName,
    DeliveryStatus,
    FlagName,
    LifecycleAction,
    Satisfaction,
    Severity,
    Verdict,
)
from sla.domain import BusinessCalendar, Case, HistoryEntry, Unit
from sla.domain.timing import measure
from sla.ports import (
    CaseFilter,
    CaseRecord,
    CaseStore,
    CaseSummary,
    ClockReader,
    ClockRecord,
    ReceiptSummary,
    StoredDeadline,
)

LOCAL_DISPLAY = "%Y-%m-%d %H:%M"
ClockStatus = Literal["running", "met", "cancelled"]
_STATUS: dict[str, ClockStatus] = {
    "pending": "running",
    "firing": "running",
    "met": "met",
    "cancelled": "cancelled",
}


class View(BaseModel):
    """Base of the query answers: frozen, documented in the OpenAPI schema."""

    model_config = ConfigDict(frozen=True)


class ClockView(View):
    """One occurrence of one clock of a case."""

    clock: ClockName
    occurrence: int = Field(description="For repeating clocks: which occurrence (1-based).")
    round: int = Field(description="Restarts of the clock (reopening, another resolution).")
    status: ClockStatus
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
    policy_version: str
    calendar_version: str


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


class DueView(View):
    """The next running clock to fall due."""

    clock: ClockName
    due_at: AwareDatetime
    due_at_local: str


class CaseView(View):
    """A case with its state, clocks, notifications and full action history."""

    complaint_id: str
    state: CaseState
    severity: Severity = Field(description="Current severity (time-based upgrades included).")
    severity_at_receipt: Severity | None
    category: str | None
    channel: Channel
    flags: list[FlagName]
    assignee: str | None
    department: str | None
    received_at: AwareDatetime
    paused_at: AwareDatetime | None = Field(description="Set while the case waits.")
    pause_reason: str | None
    contact_failures: int
    callback_failures: int
    callback_answer: Satisfaction | None
    verdict: Verdict | None
    reopen_count: int
    clocks: list[ClockView]
    notifications: list[ReceiptView]
    history: list[HistoryView]


class CaseRow(View):
    """A case in a list."""

    complaint_id: str
    state: CaseState
    severity: Severity
    category: str | None
    channel: Channel
    flags: list[FlagName]
    assignee: str | None
    department: str | None
    received_at: AwareDatetime
    next_due: DueView | None = Field(description="The running clock due first (pauses aside).")
    overdue: list[ClockName] = Field(description="Running clocks past their due time.")


class CasePage(View):
    """One page of a case list."""

    items: list[CaseRow]
    page: int
    page_size: int
    total: int = Field(description="Cases matching the filters, over all pages.")


@dataclass(frozen=True)
class CaseQuery:
    """A list request: field filters, due-time filters, paging (pages count from 1)."""

    fields: CaseFilter
    overdue: bool = False
    due_within: timedelta | None = None
    page: int = 1
    page_size: int = 50


def used_percent(record: ClockRecord, *, until: datetime, calendar: BusinessCalendar) -> int:
    """How much of the clock's span (start → due, before any running pause) has gone by."""
    d = record.deadline
    unit = cast(Unit, d.unit)
    due = d.pause_base[0] if d.pause_base else d.due_at
    span = measure(start=d.started_at, end=due, unit=unit, calendar=calendar)
    if span <= timedelta(0):
        return 100
    gone = measure(start=d.started_at, end=until, unit=unit, calendar=calendar)
    return max(0, round(100 * gone / span))


@dataclass
class CaseQueries:
    """Answers the case API's read endpoints from the SLA's stores."""

    cases: CaseStore
    clocks: ClockReader
    calendar: BusinessCalendar

    def _local(self, moment: datetime) -> datetime:
        return self.calendar.local(moment)

    async def case(self, complaint_id: str, *, now: datetime) -> CaseView | None:
        """The whole case, or None if the SLA service never saw it classified."""
        record = await self.cases.load(complaint_id)
        if record is None:
            return None
        clocks, receipts = await asyncio.gather(
            self.clocks.clocks_of(complaint_id), self.cases.receipts(complaint_id)
        )
        return self._case_view(record, clocks, receipts, now=now)

    def _case_view(
        self,
        record: CaseRecord,
        clocks: list[ClockRecord],
        receipts: list[ReceiptSummary],
        *,
        now: datetime,
    ) -> CaseView:
        facts, case = record.facts, record.case
        shown = sorted(
            (c for c in clocks if c.deadline.clock is not None and c.status in _STATUS),
            key=lambda c: (c.deadline.started_at, c.deadline.deadline_id),
        )
        return CaseView(
            complaint_id=facts.complaint_id,
            state=case.state,
            severity=case.severity,
            severity_at_receipt=facts.severity_at_receipt,
            category=facts.category,
            channel=facts.channel,
            flags=list(facts.flags),
            assignee=record.assignee,
            department=record.department,
            received_at=self._local(facts.received_at),
            paused_at=self._local(case.paused_at) if case.paused_at else None,
            pause_reason=case.pause_reason,
            contact_failures=case.contact_failures,
            callback_failures=case.callback_failures,
            callback_answer=case.callback_answer,
            verdict=case.verdict,
            reopen_count=case.reopen_count,
            clocks=[self._clock_view(c, case, now=now) for c in shown],
            notifications=[self._receipt_view(r) for r in receipts],
            history=[self._history_view(h) for h in case.history],
        )

    def _clock_view(self, record: ClockRecord, case: Case, *, now: datetime) -> ClockView:
        d = record.deadline
        assert d.clock is not None  # noqa: S101 - upgrades are filtered out before
        paused = record.running and d.pause_base is not None
        if not record.running:
            until = record.stopped_at or now
        elif paused:
            until = case.paused_at or now
        else:
            until = now
        outcome: Literal["on_time", "late"] | None = None
        if record.status == "met" and record.stopped_at is not None:
            outcome = "on_time" if record.stopped_at <= d.due_at else "late"
        return ClockView(
            clock=d.clock,
            occurrence=d.occurrence,
            round=d.round,
            status=_STATUS[record.status],
            started_at=self._local(d.started_at),
            due_at=self._local(d.due_at),
            due_at_local=self._local(d.due_at).strftime(LOCAL_DISPLAY),
            used_percent=used_percent(record, until=until, calendar=self.calendar),
            paused=paused,
            overdue=record.running and d.due_at < now,
            breached=d.breached,
            fired=sorted(d.fired),
            outcome=outcome,
            stopped_at=self._local(record.stopped_at) if record.stopped_at else None,
            policy_version=d.policy_version,
            calendar_version=d.calendar_version,
        )

    def _receipt_view(self, receipt: ReceiptSummary) -> ReceiptView:
        return ReceiptView(
            notification_id=receipt.notification_id,
            audience=receipt.audience,
            channel=receipt.channel,
            template=receipt.template,
            status=receipt.status,
            at=self._local(receipt.at),
        )

    def _history_view(self, entry: HistoryEntry) -> HistoryView:
        return HistoryView(
            action_id=entry.action_id,
            action=entry.action,
            actor=entry.actor,
            at=self._local(entry.at),
            from_state=entry.from_state,
            to_state=entry.to_state,
            reason=entry.reason,
        )

    async def page(self, query: CaseQuery, *, now: datetime) -> CasePage:
        """Cases matching the filters, oldest receipt first, one page of them."""
        start = (query.page - 1) * query.page_size
        ids: set[str] | None = None
        if query.overdue:
            ids = {d.complaint_id for d in await self.clocks.running_due_by(now)}
        if query.due_within is not None:
            horizon = await self.clocks.running_due_by(now + query.due_within)
            soon = {d.complaint_id for d in horizon if d.due_at > now}
            ids = soon if ids is None else ids & soon
        chosen, total = await self.cases.search_page(
            query.fields,
            skip=start,
            limit=query.page_size,
            ids=None if ids is None else sorted(ids),
        )
        running: dict[str, list[StoredDeadline]] = {r.facts.complaint_id: [] for r in chosen}
        if chosen:
            for d in await self.clocks.running_of(list(running)):
                running[d.complaint_id].append(d)
        items = [self._row(r, running[r.facts.complaint_id], now=now) for r in chosen]
        return CasePage(items=items, page=query.page, page_size=query.page_size, total=total)

    def _row(self, row: CaseSummary, running: list[StoredDeadline], *, now: datetime) -> CaseRow:
        facts = row.facts
        waiting = [d for d in running if d.pause_base is None]
        first = min(waiting, key=lambda d: d.due_at, default=None)
        return CaseRow(
            complaint_id=facts.complaint_id,
            state=row.state,
            severity=row.severity,
            category=facts.category,
            channel=facts.channel,
            flags=list(facts.flags),
            assignee=row.assignee,
            department=row.department,
            received_at=self._local(facts.received_at),
            next_due=(
                DueView(
                    clock=first.clock,
                    due_at=self._local(first.due_at),
                    due_at_local=self._local(first.due_at).strftime(LOCAL_DISPLAY),
                )
                if first is not None and first.clock is not None
                else None
            ),
            overdue=sorted({d.clock for d in running if d.clock and d.due_at < now}),
        )
