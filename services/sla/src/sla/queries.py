"""Case queries for staff systems: one case with its clocks, receipts and history; filtered lists.

Everything comes from the SLA service's own collections (cases with their clock sheets, case
receipts). Times are given as ISO 8601 in Asia/Shanghai (with their +08:00 offset) and, for due
times, also as the local wall-clock text people read in messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal, cast

from contracts import ClockStatus, DeadlineView
from contracts.values import SHOWN_CLOCK_STATUSES
from sla.casework.access import NotYourCaseError
from sla.casework.views import (
    CasePage,
    CaseRow,
    CaseView,
    ClockView,
    EarlierView,
    HandoverView,
    HistoryView,
    ReceiptView,
    case_head,
)
from sla.clocks.sheet import ClockEntry
from sla.domain import BusinessCalendar, Case, Handover, HistoryEntry
from sla.domain.timing import measure
from sla.list_cursor import cursor_text, list_scope
from sla.ports import (
    MAX_PAGE,
    CaseDeliveries,
    CaseFilter,
    CasePaging,
    CaseRecord,
    CaseStore,
    CaseSummary,
    ReceiptSummary,
)
from sla.privacy.contact import ContactView
from sla.privacy.ports import ContactDirectory

__all__ = [  # the answers moved to sla.casework.views; the API and tests import them from here
    "CasePage",
    "CaseQueries",
    "CaseQuery",
    "CaseRow",
    "CaseView",
    "ClockView",
    "HistoryView",
    "ReceiptView",
    "used_percent",
]
LOCAL_DISPLAY = "%Y-%m-%d %H:%M"


@dataclass(frozen=True)
class CaseQuery:
    """A list request: field filters, due-time filters, the last row seen, the page size."""

    fields: CaseFilter
    overdue: bool = False
    due_within: timedelta | None = None
    after: tuple[datetime, str] | None = None
    page_size: int = 50
    visible: Callable[[CaseSummary], bool] | None = None

    @property
    def by_due(self) -> bool:
        """Whether the list is a due list (soonest next due first)."""
        return self.overdue or self.due_within is not None

    @property
    def scope(self) -> str:
        """What a cursor of this list is tied to: its filters."""
        return list_scope(self.fields, self.overdue, self.due_within)

    def paging(self, now: datetime) -> CasePaging:
        """The first read: overdue is a next due at or before now, due within N hours one in
        (now, now + N h]; both together, one at or before now + N h (overdue or due soon)."""
        limit = min(self.page_size, MAX_PAGE) + 1  # one more: is there a next page?
        if self.overdue and self.due_within is not None:
            return CasePaging(due_by=now + self.due_within, after=self.after, limit=limit)
        return CasePaging(
            due_by=now if self.overdue else None,
            due_between=(now, now + self.due_within) if self.due_within else None,
            after=self.after,
            limit=limit,
        )


def used_percent(d: ClockEntry, *, until: datetime, calendar: BusinessCalendar) -> int:
    """How much of the clock's span (start → due, before any running pause) has gone by."""
    unit = d.unit
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
    calendar: BusinessCalendar
    contacts: ContactDirectory | None = None  # the masked contact on a case (issue 20)
    deliveries: CaseDeliveries | None = None  # the notifier's rows (none: no notifications shown)

    def _local(self, moment: datetime) -> datetime:
        return self.calendar.local(moment)

    async def case(
        self,
        complaint_id: str,
        *,
        now: datetime,
        allowed: Callable[[CaseRecord], bool] | None = None,
    ) -> CaseView | None:
        """The whole case, or None if the SLA service never saw it classified; raises
        `NotYourCaseError` for a case `allowed` refuses (sla.casework.access)."""
        # The change log (the events as published) is not shown: it stays on the server.
        record = await self.cases.load(complaint_id, log=False)
        if record is None:
            return None
        if allowed is not None and not allowed(record):
            raise NotYourCaseError(complaint_id)
        receipts = await self.deliveries.of_case(complaint_id) if self.deliveries else []
        view = self._case_view(record, list(record.clocks), receipts, now=now)
        card = await self.contacts.card(complaint_id) if self.contacts else None
        return view.model_copy(update={"contact": ContactView.of(card)}) if card else view

    def _case_view(
        self,
        record: CaseRecord,
        clocks: list[ClockEntry],
        receipts: list[ReceiptSummary],
        *,
        now: datetime,
    ) -> CaseView:
        facts, case = record.facts, record.case
        shown = sorted(
            (c for c in clocks if c.clock is not None and c.status in SHOWN_CLOCK_STATUSES),
            key=lambda c: (c.started_at, c.key),
        )
        return CaseView(
            **case_head(facts, case.state, case.severity, record.assignee, record.department),
            received_at=self._local(facts.received_at),
            severity_at_receipt=facts.severity_at_receipt,
            paused_at=self._local(case.paused_at) if case.paused_at else None,
            pause_reason=case.pause_reason,
            contact_failures=case.contact_failures,
            callback_failures=case.callback_failures,
            callback_answer=case.callback_answer,
            verdict=case.verdict,
            reopen_count=case.reopen_count,
            complex=case.complex_case,
            owner=case.owner,
            owner_department=case.owner_department,
            handovers=[self._handover_view(h) for h in case.handovers],
            clocks=[self._clock_view(c, case, now=now) for c in shown],
            notifications=[self._receipt_view(r) for r in receipts],
            history=[self._history_view(h) for h in case.history],
        )

    def _clock_view(self, d: ClockEntry, case: Case, *, now: datetime) -> ClockView:
        assert d.clock is not None  # noqa: S101 - upgrades are filtered out before
        paused = d.running and d.pause_base is not None
        if not d.running:
            until = d.stopped_at or now
        elif paused:
            until = case.paused_at or now
        else:
            until = now
        on_time, late, missed = d.folded
        outcome: Literal["on_time", "late"] | None = None
        if d.status is ClockStatus.MET and d.stopped_at is not None:
            outcome = "on_time" if d.stopped_at <= d.due_at else "late"
        return ClockView(
            clock=d.clock,
            occurrence=d.occurrence,
            round=d.round,
            status=d.status,
            started_at=self._local(d.started_at),
            due_at=self._local(d.due_at),
            due_at_local=self._local(d.due_at).strftime(LOCAL_DISPLAY),
            used_percent=used_percent(d, until=until, calendar=self.calendar),
            paused=paused,
            overdue=d.running and d.due_at < now,
            breached=d.breached,
            fired=sorted(d.passed),
            outcome=outcome,
            stopped_at=self._local(d.stopped_at) if d.stopped_at else None,
            earlier=EarlierView(met_on_time=on_time, met_late=late, breached=missed)
            if any(d.folded)
            else None,
            policy_version=d.policy_version,
            calendar_version=d.calendar_version,
            provisional=d.provisional,
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

    def _handover_view(self, handover: Handover) -> HandoverView:
        return HandoverView(
            action_id=handover.action_id,
            department=handover.department,
            reason=handover.reason,
            requested_by=handover.requested_by,
            requested_at=self._local(handover.requested_at),
            status=cast(Literal["pending", "accepted", "declined"], handover.status),
            decided_by=handover.decided_by,
            decided_at=self._local(handover.decided_at) if handover.decided_at else None,
            decision_reason=handover.decision_reason,
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
        """Cases matching the filters, one page of them: oldest receipt first, or soonest next
        due first for a due filter."""
        paging = query.paging(now)
        rows: list[CaseSummary] = []
        while True:  # the staff member's scope is applied here: read on until the page is full
            batch = await self.cases.search(query.fields, paging)
            rows += [r for r in batch if query.visible is None or query.visible(r)]
            if len(rows) > query.page_size or len(batch) < paging.limit:
                break
            paging = replace(paging, after=batch[-1].list_key(paging))
        chosen = rows[: query.page_size]
        more = len(rows) > len(chosen)
        return CasePage(
            items=[self._row(r, list(r.running), now=now) for r in chosen],
            page_size=query.page_size,
            next_after=cursor_text(
                chosen[-1].list_key(paging), by_due=query.by_due, scope=query.scope
            )
            if more
            else None,
        )

    def _row(self, row: CaseSummary, running: list[ClockEntry], *, now: datetime) -> CaseRow:
        facts = row.facts
        waiting = [d for d in running if d.pause_base is None]
        first = min(waiting, key=lambda d: d.due_at, default=None)
        return CaseRow(
            **case_head(facts, row.state, row.severity, row.assignee, row.department),
            received_at=self._local(facts.received_at),
            next_due=(
                DeadlineView(
                    clock=first.clock,
                    due_at=self._local(first.due_at),
                    due_at_local=self._local(first.due_at).strftime(LOCAL_DISPLAY),
                    occurrence=first.occurrence,
                    provisional=first.provisional,
                )
                if first is not None and first.clock is not None
                else None
            ),
            overdue=sorted({d.clock for d in running if d.clock and d.due_at < now}),
        )
