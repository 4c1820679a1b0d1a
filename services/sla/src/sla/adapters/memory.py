"""In-memory SLA stores for handler and scheduler tests; same contract as the Mongo ones."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from contracts import CaseState, ClockName, Event, Severity, SlaChanged, Verdict
from servicekit.outbox import MemoryOutbox
from sla.domain import Case, open_case
from sla.ports import (
    CaseChange,
    CaseFacts,
    CaseFilter,
    CaseRecord,
    CaseSummary,
    ClockRecord,
    ReceiptSummary,
    StoredDeadline,
)


@dataclass
class _Slot:
    deadline: StoredDeadline
    status: str = "pending"
    owner: str | None = None
    lease_until: datetime | None = None
    announced: bool = True
    stopped_at: datetime | None = None
    applied: set[str] = field(default_factory=set)


RUNNING = ("pending", "firing")


class InMemoryDeadlineStore:
    """Deadlines in a dict with the same lease semantics as the Mongo store."""

    def __init__(self) -> None:
        self.slots: dict[str, _Slot] = {}

    async def ensure_indexes(self) -> None:
        """Nothing to index in memory."""

    async def add(self, deadlines: Sequence[StoredDeadline]) -> None:
        """Insert-if-absent by deadline id."""
        for d in deadlines:
            if d.deadline_id not in self.slots:
                self.slots[d.deadline_id] = _Slot(
                    d, "pending" if d.next_threshold() or d.clock else "done"
                )

    def _fire_at(self, slot: _Slot) -> datetime | None:
        if slot.status == "firing":
            return slot.lease_until
        nxt = slot.deadline.next_threshold()
        return nxt.at if slot.status == "pending" and nxt else None

    async def next_due_at(self) -> datetime | None:
        """Earliest time any deadline needs attention."""
        times = [t for s in self.slots.values() if (t := self._fire_at(s)) is not None]
        return min(times, default=None)

    async def claim_due(
        self, *, now: datetime, owner: str, lease_until: datetime, limit: int
    ) -> list[StoredDeadline]:
        """Take due deadlines (or expired leases)."""
        due = sorted(
            (s for s in self.slots.values() if (t := self._fire_at(s)) is not None and t <= now),
            key=lambda s: self._fire_at(s) or now,
        )[:limit]
        for slot in due:
            slot.status, slot.owner, slot.lease_until = "firing", owner, lease_until
        return [s.deadline for s in due]

    async def fired(self, deadline: StoredDeadline, *, percent: int, owner: str) -> None:
        """Record the threshold and release the lease if we still hold it."""
        slot = self.slots[deadline.deadline_id]
        if slot.owner != owner or slot.status != "firing":
            return
        slot.deadline = replace(slot.deadline, fired=(*slot.deadline.fired, percent))
        open_clock = slot.deadline.next_threshold() or slot.deadline.clock
        slot.status = "pending" if open_clock else "done"
        slot.owner = slot.lease_until = None

    async def stop_clocks(
        self,
        complaint_id: str,
        clocks: Collection[ClockName | None],
        *,
        status: str,
        at: datetime,
    ) -> list[StoredDeadline]:
        """Stop the open deadlines of these clocks; also return stops not yet announced."""
        stopped = []
        for slot in self.slots.values():
            d = slot.deadline
            if d.complaint_id != complaint_id or d.clock not in clocks:
                continue
            if slot.status in RUNNING:
                slot.status, slot.announced, slot.stopped_at = status, False, at
            if slot.status == status and not slot.announced:
                stopped.append(d)
        return stopped

    async def census(self) -> list[tuple[str, str, str, str, int]]:
        """Counts by (clock, severity, status, outcome), as the Mongo store groups them."""
        counts: dict[tuple[str, str, str, str], int] = {}
        for slot in self.slots.values():
            d = slot.deadline
            if slot.status == "met" and slot.stopped_at is not None:
                outcome = "on_time" if slot.stopped_at <= d.due_at else "late"
            elif slot.status in RUNNING and d.breached:
                outcome = "overdue"
            else:
                outcome = ""
            key = (d.clock.value if d.clock else "upgrade", d.severity, slot.status, outcome)
            counts[key] = counts.get(key, 0) + 1
        return [(*key, n) for key, n in sorted(counts.items())]

    async def open_for(self, complaint_id: str) -> list[StoredDeadline]:
        """The complaint's running deadlines."""
        return [
            s.deadline
            for s in self.slots.values()
            if s.deadline.complaint_id == complaint_id and s.status in RUNNING
        ]

    async def replan(self, deadlines: Sequence[StoredDeadline], *, action_id: str) -> None:
        """New times for running deadlines, once per action; fired thresholds stay fired."""
        for d in deadlines:
            slot = self.slots.get(d.deadline_id)
            if slot is None or slot.status not in RUNNING or action_id in slot.applied:
                continue
            slot.applied.add(action_id)
            slot.deadline = replace(d, fired=slot.deadline.fired)
            if slot.deadline.next_threshold() is None and slot.deadline.clock is None:
                slot.status = "done"

    async def announced(self, deadline_ids: Sequence[str]) -> None:
        """Flag the stops as published."""
        for deadline_id in deadline_ids:
            self.slots[deadline_id].announced = True


class InMemoryClockReader:
    """The case queries' view of an in-memory deadline store."""

    def __init__(self, store: InMemoryDeadlineStore) -> None:
        self._store = store

    async def clocks_of(self, complaint_id: str) -> list[ClockRecord]:
        """Every deadline of the complaint."""
        return [
            ClockRecord(s.deadline, s.status, s.stopped_at)
            for s in self._store.slots.values()
            if s.deadline.complaint_id == complaint_id
        ]

    async def running_due_by(self, at: datetime) -> list[StoredDeadline]:
        """Running clocks due at or before `at`."""
        return [d for d in self._running() if d.due_at <= at]

    async def running_of(self, complaint_ids: Sequence[str]) -> list[StoredDeadline]:
        """Running clocks of these complaints."""
        wanted = set(complaint_ids)
        return [d for d in self._running() if d.complaint_id in wanted]

    def _running(self) -> list[StoredDeadline]:
        return [
            s.deadline
            for s in self._store.slots.values()
            if s.status in RUNNING and s.deadline.clock is not None
        ]


class InMemoryCaseStore:
    """Cases, outboxes and complainant records in dicts, with the same versioning."""

    def __init__(self) -> None:
        self.records: dict[str, CaseRecord] = {}
        self.outbox: MemoryOutbox[SlaChanged] = MemoryOutbox()
        self.events: dict[str, dict[str, Event]] = {}
        self.changes: dict[str, list[CaseChange]] = {}
        self.severity: dict[str, Severity] = {}
        self.verdicts: dict[str, dict[str, tuple[datetime, Verdict]]] = {}
        self.notifications: dict[str, dict[str, ReceiptSummary]] = {}

    def state(self, complaint_id: str) -> CaseState:
        """The stored state of one case."""
        return self.records[complaint_id].case.state

    async def save_started(
        self, entries: Sequence[tuple[CaseFacts, CaseState, SlaChanged | None]]
    ) -> None:
        """Record case and event unless already recorded."""
        for facts, state, event in entries:
            if facts.complaint_id not in self.records:
                severity = facts.severity_at_receipt or Severity.P4
                self.records[facts.complaint_id] = CaseRecord(
                    facts, open_case(severity=severity, state=state), 0
                )
            if event is not None:
                self.outbox.put(facts.complaint_id, event)

    async def unpublished(self, complaint_ids: Sequence[str]) -> list[SlaChanged]:
        """Kept events not yet marked published."""
        return await self.outbox.pending(complaint_ids)

    async def mark_published(self, complaint_ids: Sequence[str]) -> None:
        """Flag the events as published."""
        await self.outbox.mark_published(complaint_ids)

    async def prefetch(self, complaint_ids: Sequence[str]) -> None:
        """Nothing to read ahead in memory."""

    async def load(self, complaint_id: str) -> CaseRecord | None:
        """The stored case, with the current (maybe upgraded) severity."""
        record = self.records.get(complaint_id)
        if record is None:
            return None
        severity = self.severity.get(complaint_id, record.case.severity)
        return replace(record, case=replace(record.case, severity=severity))

    async def commit(self, record: CaseRecord, case: Case, change: CaseChange) -> bool:
        """Compare-and-set on the version."""
        cid = record.facts.complaint_id
        stored = self.records[cid]
        if stored.version != record.version:
            return False
        assignee, department = change.assignment or (stored.assignee, stored.department)
        # Refusals stay with the case, as in the Mongo store (a commit sets the case's fields).
        self.records[cid] = CaseRecord(
            record.facts, case, record.version + 1, assignee, department, stored.refusals
        )
        self.changes.setdefault(cid, []).append(change)
        for event in change.events:
            self.events.setdefault(cid, {})[event.id] = event
        return True

    async def pending_events(self, complaint_ids: Sequence[str]) -> list[Event]:
        """Events still in the outbox, oldest first."""
        found = [
            e for cid in dict.fromkeys(complaint_ids) for e in self.events.get(cid, {}).values()
        ]
        return sorted(found, key=lambda e: (e.time, e.id))

    async def events_published(self, events: Sequence[Event]) -> None:
        """Drop published events from the outbox."""
        for event in events:
            self.events.get(event.subject or "", {}).pop(event.id, None)

    async def record_refusal(
        self, complaint_id: str, action_id: str, *, reason: str, detail: str
    ) -> None:
        """Keep the refusal with the case."""
        record = self.records.get(complaint_id)
        if record is not None:
            refusals = {**record.refusals, action_id: (reason, detail)}
            self.records[complaint_id] = replace(record, refusals=refusals)

    async def raise_severity(self, complaint_id: str, severity: Severity) -> None:
        """Keep the upgraded severity; the version moves."""
        self.severity[complaint_id] = severity
        record = self.records[complaint_id]
        self.records[complaint_id] = replace(record, version=record.version + 1)

    async def record_verdict(
        self, complainant_key: str, *, complaint_id: str, at: datetime, verdict: Verdict
    ) -> list[tuple[datetime, Verdict]]:
        """One verdict per complaint in the complainant's record."""
        record = self.verdicts.setdefault(complainant_key, {})
        record.setdefault(complaint_id, (at, verdict))
        return list(record.values())

    async def record_receipts(self, receipts: Sequence[ReceiptSummary]) -> None:
        """The latest receipt per notification id, under its case."""
        for receipt in receipts:
            self.notifications.setdefault(receipt.complaint_id, {})[receipt.notification_id] = (
                receipt
            )

    async def receipts(self, complaint_id: str) -> list[ReceiptSummary]:
        """The case's receipts, oldest first."""
        kept = self.notifications.get(complaint_id, {}).values()
        return sorted(kept, key=lambda r: (r.at, r.notification_id))

    async def ensure_indexes(self) -> None:
        """Nothing to index in memory."""

    async def search(self, query: CaseFilter) -> list[CaseSummary]:
        """Cases matching every given field, oldest receipt first."""
        found = []
        for cid, record in self.records.items():
            severity = self.severity.get(cid, record.case.severity)
            row = CaseSummary(
                record.facts, record.case.state, severity, record.assignee, record.department
            )
            if _matches(row, query):
                found.append(row)
        return sorted(found, key=lambda r: (r.facts.received_at, r.facts.complaint_id))

    async def search_page(
        self,
        query: CaseFilter,
        *,
        skip: int,
        limit: int | None,
        ids: Sequence[str] | None = None,
    ) -> tuple[list[CaseSummary], int]:
        """One page of matching cases and how many match in all."""
        rows = [r for r in await self.search(query) if ids is None or r.facts.complaint_id in ids]
        return rows[skip : None if limit is None else skip + limit], len(rows)


def _matches(row: CaseSummary, query: CaseFilter) -> bool:
    wanted = (
        (query.state, row.state),
        (query.severity, row.severity),
        (query.category, row.facts.category),
        (query.channel, row.facts.channel),
        (query.assignee, row.assignee),
    )
    return all(want is None or want == have for want, have in wanted)
