"""RecordReceipt: a delivered acknowledgement (the receipt's typed field) meets the case's
acknowledge clock directly (one compare-and-set; no lifecycle or SLA event: no one consumes it —
the customer already has the acknowledgement, and staff see it in the case). The case's new state
goes on the compacted cases topic like every change (ADR 0011). Other receipts are not copied: the
case API reads a case's deliveries from the notifier's own rows (ADR 0006 addendum, 2026-12-07)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from contracts import (
    Audience,
    CaseState,
    ClockName,
    ClockStatus,
    DeliveryStatus,
    LifecycleAction,
    NotificationSent,
)
from servicekit.bodies import Received
from servicekit.clock import Clock
from servicekit.delivery import Rejection
from sla.domain import HistoryEntry
from sla.held import HeldReceipt
from sla.metrics import SlaMetrics
from sla.ports import (
    CaseChange,
    CaseRecord,
    CaseStore,
    LogEntry,
    Publish,
    after,
)
from sla.snapshots import with_snapshots

COMMIT_ATTEMPTS = 10
RECEIPT_ACTOR = "notifier"  # the history row names where the acknowledgement came from
# States in which an acknowledgement is still news (DOMAIN.md §6: a staff acknowledgement is
# accepted in these too).
_OPEN = frozenset(
    {
        CaseState.CLASSIFIED,
        CaseState.DISPATCHED,
        CaseState.IN_PROGRESS,
        CaseState.AWAITING_CUSTOMER,
    }
)


class ReceiptBusyError(RuntimeError):
    """A case kept changing under the compare-and-set loop; the batch is retried."""


def acknowledges(sent: NotificationSent) -> bool:
    """A customer acknowledgement (the receipt's typed field says so) that reached the customer."""
    receipt = sent.data
    return (
        receipt.acknowledgement
        and receipt.audience is Audience.CUSTOMER
        and receipt.status is DeliveryStatus.DELIVERED
    )


def acknowledged(record: CaseRecord, entry_id: str, at: datetime) -> CaseChange | None:
    """The case acknowledged by a receipt: state, acknowledge clock met, history; None if it
    was acknowledged already (by staff or an earlier receipt) or is past acknowledging."""
    case = record.case
    if case.acknowledged or case.state not in _OPEN:
        return None
    to_state = CaseState.ACKNOWLEDGED if case.state is CaseState.CLASSIFIED else case.state
    row = HistoryEntry(
        entry_id, LifecycleAction.ACKNOWLEDGED, RECEIPT_ACTOR, at, case.state, to_state
    )
    new_case = replace(case, acknowledged=True, state=to_state, history=(*case.history, row))
    clocks = tuple(
        replace(c, status=ClockStatus.MET, stopped_at=at)
        if c.running and c.clock is ClockName.ACKNOWLEDGE
        else c
        for c in record.clocks
    )
    return CaseChange(case=new_case, clocks=clocks, entry=LogEntry(entry_id, at))


def held_of(sent: NotificationSent) -> HeldReceipt:
    """What acknowledging takes from a receipt: its case, the history row's id (one per
    notification: redeliveries match) and the delivery's time."""
    return HeldReceipt(sent.data.complaint_id, f"receipt:{sent.data.notification_id}", sent.time)


async def acknowledge(
    cases: CaseStore,
    metrics: SlaMetrics,
    wanted: dict[str, HeldReceipt],
    known: dict[str, CaseRecord],
) -> None:
    """Acknowledge the stored cases of `wanted` in batched compare-and-sets, again on a fresh
    read for those another writer changed meanwhile (`known` updated to what is stored). Cases
    not in `known` are skipped (not stored yet: see `_hold`)."""
    pending = dict(wanted)
    for _ in range(COMMIT_ATTEMPTS):
        changes = []
        for cid, receipt in pending.items():
            record = known.get(cid)
            if record is None:
                continue
            change = acknowledged(record, receipt.entry_id, receipt.at)
            if change is not None:
                changes.append((record, change))
        won = await cases.commit_many(changes)
        for record, change in changes:
            if record.complaint_id in won:
                known[record.complaint_id] = after(record, change)
                count_met(metrics, record, pending[record.complaint_id].at)
        pending = {
            cid: pending[cid] for cid in (r.complaint_id for r, _ in changes) if cid not in won
        }
        if not pending:
            return
        known.update(await cases.load_many(list(pending), log=False))
    raise ReceiptBusyError(", ".join(sorted(pending)))


def count_met(metrics: SlaMetrics, record: CaseRecord, at: datetime) -> None:
    """The acknowledge clock met at `at`, on time or late, counted."""
    for clock in record.clocks:
        if clock.running and clock.clock is ClockName.ACKNOWLEDGE:
            on_time = "on_time" if at <= clock.due_at else "late"
            metrics.met.labels(clock.clock.value, on_time).inc()


@dataclass
class RecordReceipt:
    """A delivered acknowledgement acknowledges its case; other receipts change nothing here."""

    cases: CaseStore
    metrics: SlaMetrics
    publish: Publish
    clock: Clock

    async def on_receipts(self, messages: Sequence[Received[NotificationSent]]) -> list[Rejection]:
        """One read for the acknowledged cases, their compare-and-sets batched, one snapshot
        per acknowledged case; receipts that acknowledge nothing cost no database command."""
        wanted: dict[str, NotificationSent] = {}
        for sent in (
            message.body for message in messages
        ):  # the first delivered acknowledgement per case acknowledges it
            if acknowledges(sent):
                wanted.setdefault(sent.data.complaint_id, sent)
        if not wanted:
            return []
        # The log is not needed (a receipt publishes no stored event) and is costly to read;
        # cases started here lately come as inserted, unread (a stale one loses its compare-
        # and-set, and `acknowledge` reads it again: ADR 0042).
        known = await self.cases.load_started(list(wanted))
        receipts = {cid: held_of(sent) for cid, sent in wanted.items()}
        if ahead := [cid for cid in wanted if cid not in known]:
            await self._hold(ahead, receipts, known)
        await acknowledge(self.cases, self.metrics, receipts, known)
        # Acknowledged now or before (a redelivery whose snapshot may not have gone out).
        records = [r for r in known.values() if r.case.acknowledged]
        await self.publish(with_snapshots([], records, at=self.clock.now()))
        return []

    async def _hold(
        self, ahead: list[str], receipts: dict[str, HeldReceipt], known: dict[str, CaseRecord]
    ) -> None:
        """Receipts ahead of their case: every classification starts a case, but the SLA reads
        the classified topic on its own and may lag the notifier, so the case may not be stored
        yet. The receipt is kept for the case's start (`StartClocks`), then the case is looked
        for again: the start stores its cases before it reads what is kept, so at least one of
        the two sees the other (a receipt is never dropped, and acknowledging twice changes
        nothing)."""
        await self.cases.hold_receipts([receipts[cid] for cid in ahead])
        if found := await self.cases.load_many(ahead, log=False):
            known.update(found)
            await self.cases.drop_receipts(list(found))
