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
        # The log is not needed (a receipt publishes no stored event) and is costly to read.
        known = await self.cases.load_many(list(wanted), log=False)
        await self._acknowledge(wanted, known)
        # Acknowledged now or before (a redelivery whose snapshot may not have gone out).
        records = [r for r in known.values() if r.case.acknowledged]
        await self.publish(with_snapshots([], records, at=self.clock.now()))
        return []

    async def _acknowledge(
        self,
        wanted: dict[str, NotificationSent],
        known: dict[str, CaseRecord],
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
                    continue  # never classified here (or not a complaint)
                entry_id = f"receipt:{sent.data.notification_id}"
                change = acknowledged(record, entry_id, sent.time)
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
