"""StartClocks: a newly classified complaint becomes a case document with its clock sheet."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from contracts import (
    Audience,
    CaseState,
    ClassifiedComplaint,
    ComplaintClassified,
    DeadlineView,
    Event,
    Kind,
    Severity,
    SlaChange,
    SlaChanged,
    SlaEventKind,
)
from servicekit.bodies import Received
from servicekit.delivery import Rejection
from sla.casework.receipts import acknowledge, acknowledged, count_met
from sla.casework.work import CaseWork
from sla.clocks.due import due_entry
from sla.clocks.sheet import ClockEntry, Threshold, entry_of
from sla.domain import (
    BusinessCalendar,
    SlaPolicy,
    deadlines_at_receipt,
    open_case,
    severity_upgrade_due,
)
from sla.held import HeldReceipt
from sla.ports import CaseFacts, CaseRecord, LogEntry, after
from sla.snapshots import with_snapshots

SOURCE = "/complaints/sla"
SHANGHAI_DISPLAY = "%Y-%m-%d %H:%M"
FALLBACK_MARK = "weekends-only fallback "  # how BusinessCalendar.version_between names them
STARTED = "clocks-started"  # the log entry of the insert (it carries the `set` event)


def display(local: datetime) -> str:
    """`local` as `SHANGHAI_DISPLAY` writes it (years 1000–9999), without `strftime`'s cost."""
    return f"{local.year:04d}-{local.month:02d}-{local.day:02d} {local.hour:02d}:{local.minute:02d}"


def facts_of(data: ClassifiedComplaint) -> CaseFacts:
    """What the SLA service keeps from a classification."""
    return CaseFacts(
        complaint_id=data.complaint_id,
        received_at=data.received_at,
        channel=data.channel,
        flags=tuple(f.name for f in data.flags),
        severity_at_receipt=data.severity,
        referral_due_at=data.referral_due_at,
        complainant_key=data.complainant_key,
        category=data.category,
    )


def state_without_clocks(data: ClassifiedComplaint) -> CaseState | None:
    """Side states that never get complaint clocks."""
    if data.duplicate_of:
        return CaseState.DUPLICATE
    if data.kind is Kind.ENQUIRY:
        return CaseState.ENQUIRY
    if data.kind is Kind.OUT_OF_SCOPE:
        return CaseState.ROUTED
    return None


def sheet_at_receipt(
    data: ClassifiedComplaint,
    severity: Severity,
    *,
    policy: SlaPolicy,
    calendar: BusinessCalendar,
) -> tuple[ClockEntry, ...]:
    """The clock sheet a classified complaint's case starts with: the pack's clocks at receipt
    and its time-based severity upgrades (also what `make bench-sla` loads as its backlog)."""
    deadlines = deadlines_at_receipt(
        received_at=data.received_at,
        severity=severity,
        channel=data.channel,
        referral_due_at=data.referral_due_at,
        flags=[f.name for f in data.flags],
        policy=policy,
        calendar=calendar,
    )
    sheet = [
        entry_of(
            d,
            severity.value,
            repeat=bool((spec := policy.spec(clock=d.clock, severity=severity)) and spec.repeat),
        )
        for d in deadlines
    ]
    for at, target in severity_upgrade_due(
        received_at=data.received_at, severity=severity, policy=policy
    ):
        sheet.append(
            ClockEntry(
                key=f"upgrade:{target.value}",
                clock=None,
                occurrence=1,
                severity=severity.value,
                started_at=data.received_at,
                due_at=at,
                thresholds=(Threshold(100, at, (Audience.HANDLER, Audience.TEAM_LEAD)),),
                policy_version=policy.version,
                calendar_version=calendar.version,
                upgrade_to=target.value,
            )
        )
    return tuple(sheet)


def with_receipt(record: CaseRecord, receipt: HeldReceipt | None) -> CaseRecord:
    """A new case as it reads once the acknowledgement kept for it is applied (version 1, the
    receipt's history row and log entry, its acknowledge clock met); as it is without one."""
    change = acknowledged(record, receipt.entry_id, receipt.at) if receipt else None
    return after(record, change) if change else record


@dataclass
class StartClocks(CaseWork):
    """Inserts one case document per new complaint (clock sheet included) and announces it."""

    wake: Callable[[datetime], None]  # the scheduler's: a threshold is due at this time

    async def on_classified(
        self, messages: Sequence[Received[ComplaintClassified]]
    ) -> list[Rejection]:
        """Insert (one batch), publish, and on redelivery republish what the stored case says."""
        started: dict[str, CaseRecord] = {}
        for data in (message.body.data for message in messages):
            if data.complaint_id not in started:
                started[data.complaint_id] = self.case_of(data)
        # Acknowledgements kept ahead of their case go into its insert: no update (ADR 0042).
        ahead = await self.cases.held_receipts(list(started))
        records = {cid: with_receipt(r, ahead.get(cid)) for cid, r in started.items()}
        entries = [
            e for r in records.values() if (e := due_entry(r.complaint_id, r.clocks)) is not None
        ]
        await self.index.add(entries, now=self.clock.now())  # before the case: never missed
        taken = set(await self.cases.insert_new(list(records.values())))
        stored = await self.cases.load_many(sorted(taken))  # redelivered: what was stored wins
        events: list[Event] = []
        kept = [stored.get(cid, r) if cid in taken else r for cid, r in records.items()]
        kept = await self._take_held(kept)  # after the insert: see `RecordReceipt._hold`
        for record in kept:
            if (entry := record.entry(STARTED)) is not None:
                events += entry.events
        await self.publish(with_snapshots(events, kept, at=self.clock.now()))
        for cid, record in records.items():
            if cid not in taken:
                self._count(record)
                if record is not started[cid]:  # started acknowledged
                    count_met(self.metrics, started[cid], ahead[cid].at)
        if entries:
            self.wake(min(e[1] for e in entries))
        return []

    async def _take_held(self, kept: list[CaseRecord]) -> list[CaseRecord]:
        """Acknowledge the cases whose delivered acknowledgement came before them and was kept
        after the first look (one `_id $in` read per batch; the collection holds only receipts
        that raced their case), and drop what is kept (those inserted acknowledged: no write)."""
        held = await self.cases.held_receipts([r.complaint_id for r in kept])
        if not held:
            return kept
        known = {r.complaint_id: r for r in kept}
        await acknowledge(self.cases, self.metrics, held, known)
        await self.cases.drop_receipts(list(held))
        return [known[r.complaint_id] for r in kept]

    def case_of(self, data: ClassifiedComplaint) -> CaseRecord:
        """The case document a classification starts (sheet and `clocks-started` entry)."""
        facts = facts_of(data)
        side_state = state_without_clocks(data)
        if side_state is not None or data.severity is None:
            case = open_case(
                severity=data.severity or Severity.P4, state=side_state or CaseState.CLASSIFIED
            )
            return CaseRecord(facts=facts, case=case, version=0)
        clocks = self._clocks(data, data.severity)
        event = self._set_event(data, data.severity, clocks)
        return CaseRecord(
            facts=facts,
            case=open_case(severity=data.severity),
            version=0,
            clocks=clocks,
            log=(LogEntry(STARTED, self.clock.now(), (event,)),),
        )

    def _count(self, record: CaseRecord) -> None:
        for entry in record.clocks:
            if entry.clock is not None:
                self.metrics.deadlines_set.labels(entry.clock.value, entry.severity).inc()
            # Deadlines computed on the weekends-only fallback (a year without holiday data).
            _, _, years = entry.calendar_version.partition(FALLBACK_MARK)
            for year in filter(None, years.split(",")):
                self.metrics.calendar_fallback.labels(year.strip()).inc()

    def _clocks(self, data: ClassifiedComplaint, severity: Severity) -> tuple[ClockEntry, ...]:
        return sheet_at_receipt(data, severity, policy=self.policy, calendar=self.calendar)

    def _set_event(
        self, data: ClassifiedComplaint, severity: Severity, clocks: Sequence[ClockEntry]
    ) -> SlaChanged:
        views = [
            DeadlineView(
                clock=c.clock,
                due_at=c.due_at.astimezone(UTC),
                due_at_local=display(self.calendar.local(c.due_at)),
                occurrence=c.occurrence,
                provisional=c.provisional,
            )
            for c in clocks
            if c.clock is not None
        ]
        change = SlaChange(
            complaint_id=data.complaint_id,
            event=SlaEventKind.SET,
            severity=severity,
            deadlines=views,
            policy_version=self.policy.version,
            calendar_version=self.calendar.version,
            provisional=any(v.provisional for v in views),
        )
        return SlaChanged.build(
            data=change,
            subject=data.complaint_id,
            source=SOURCE,
            time=self.clock.now(),
            cause="clocks-started",
        )
