"""RecordReceipt: delivery receipts are kept with their case; a delivered acknowledgement meets
the case's acknowledge clock directly (one compare-and-set; no lifecycle or SLA event: no one
consumes it — the customer already has the acknowledgement, and staff see it in the case). The
case's new state goes on the compacted cases topic like every change (ADR 0011)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from contracts import (
    Audience,
    CaseState,
    ClockName,
    DeliveryStatus,
    LifecycleAction,
    NotificationSent,
)
from servicekit.clock import Clock
from servicekit.delivery import Inbound, Rejection
from servicekit.plausible import decode_plausible
from sla.clocks.sheet import ClockStatus
from sla.domain import HistoryEntry
from sla.metrics import SlaMetrics
from sla.ports import (
    CaseChange,
    CaseRecord,
    CaseStore,
    LogEntry,
    Publish,
    ReceiptSummary,
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


def summary(sent: NotificationSent) -> ReceiptSummary:
    """What the case keeps of a receipt (no recipient, no text)."""
    receipt = sent.data
    return ReceiptSummary(
        notification_id=receipt.notification_id,
        complaint_id=receipt.complaint_id,
        audience=receipt.audience,
        channel=receipt.channel,
        template=receipt.template,
        status=receipt.status,
        at=sent.time,
    )


def acknowledges(sent: NotificationSent) -> bool:
    """A customer acknowledgement (the receipt's typed field says so) that reached the customer."""
    receipt = sent.data
    return (
        receipt.acknowledgement
        and receipt.audience is Audience.CUSTOMER
        and receipt.status is DeliveryStatus.DELIVERED
    )


def acknowledged(
    record: CaseRecord, entry_id: str, at: datetime, receipts: tuple[ReceiptSummary, ...] = ()
) -> CaseChange | None:
    """The case acknowledged by a receipt: state, acknowledge clock met, history, and the
    case's `receipts` of the batch kept in the same write; None if it was acknowledged already
    (by staff or an earlier receipt) or is past acknowledging."""
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
    return CaseChange(case=new_case, clocks=clocks, entry=LogEntry(entry_id, at), receipts=receipts)


@dataclass
class RecordReceipt:
    """Keeps every receipt with its case; a delivered acknowledgement acknowledges the case."""

    cases: CaseStore
    metrics: SlaMetrics
    publish: Publish
    clock: Clock

    async def on_receipts(self, messages: Sequence[Inbound]) -> list[Rejection]:
        """One read for the acknowledged cases, their compare-and-sets batched (each keeping
        its case's receipts of the batch too), one write for the receipts no change kept, one
        snapshot per acknowledged case."""
        receipts, rejections = decode_plausible(messages, NotificationSent)
        by_case: dict[str, list[ReceiptSummary]] = {}
        for sent in receipts:
            by_case.setdefault(sent.data.complaint_id, []).append(summary(sent))
        wanted: dict[str, NotificationSent] = {}
        for sent in receipts:  # the first delivered acknowledgement per case acknowledges it
            if acknowledges(sent):
                wanted.setdefault(sent.data.complaint_id, sent)
        # The log is not needed (a receipt publishes no stored event) and is costly to read.
        known = await self.cases.load_many(list(wanted), log=False)
        for cid in await self._acknowledge(wanted, known, by_case):
            del by_case[cid]
        for cid, record in known.items():  # a redelivery: what its case kept needs no copy
            kept = {h.action_id for h in record.case.history}
            left = [r for r in by_case.get(cid, ()) if f"receipt:{r.notification_id}" not in kept]
            if cid in by_case and not left:
                del by_case[cid]
            elif left:
                by_case[cid] = left
        await self.cases.record_receipts([r for kept in by_case.values() for r in kept])
        # Acknowledged now or before (a redelivery whose snapshot may not have gone out).
        records = [r for r in known.values() if r.case.acknowledged]
        await self.publish(with_snapshots([], records, at=self.clock.now()))
        return rejections

    async def _acknowledge(
        self,
        wanted: dict[str, NotificationSent],
        known: dict[str, CaseRecord],
        by_case: dict[str, list[ReceiptSummary]],
    ) -> list[str]:
        """Acknowledge the cases of `wanted` in batched compare-and-sets, again on a fresh read
        for those another writer changed meanwhile; the ids acknowledged now (`known` updated
        to what is stored)."""
        done: list[str] = []
        pending = dict(wanted)
        for _ in range(COMMIT_ATTEMPTS):
            changes = []
            for cid, sent in pending.items():
                record = known.get(cid)
                if record is None:
                    continue  # never classified here (or not a complaint): kept beside it
                entry_id = f"receipt:{sent.data.notification_id}"
                change = acknowledged(record, entry_id, sent.time, tuple(by_case[cid]))
                if change is not None:
                    changes.append((record, change))
            won = await self.cases.commit_many(changes)
            for record, change in changes:
                if record.complaint_id in won:
                    known[record.complaint_id] = after(record, change)
                    done.append(record.complaint_id)
                    self._count_met(record, pending[record.complaint_id])
            pending = {
                cid: pending[cid] for cid in (r.complaint_id for r, _ in changes) if cid not in won
            }
            if not pending:
                return done
            known.update(await self.cases.load_many(list(pending), log=False))
        raise ReceiptBusyError(", ".join(sorted(pending)))

    def _count_met(self, record: CaseRecord, sent: NotificationSent) -> None:
        for clock in record.clocks:
            if clock.running and clock.clock is ClockName.ACKNOWLEDGE:
                on_time = "on_time" if sent.time <= clock.due_at else "late"
                self.metrics.met.labels(clock.clock.value, on_time).inc()
