"""The case queries' MongoDB reads against the real local FerretDB: receipts beside the case,
assignment and category on the case, lists, and the read-only clock view."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contracts import Audience, CaseState, Channel, DeliveryStatus, Severity
from servicekit.clock import FakeClock
from sla.adapters.mongo_cases import MongoCaseStore
from sla.adapters.mongo_deadlines import MongoClockReader
from sla.domain import open_case
from sla.ports import CaseChange, CaseFacts, CaseFilter, ReceiptSummary
from tests.sla.test_handlers import CID, RECEIVED, deadline
from tests.sla.test_mongo_stores import db, local_stack, stores

__all__ = ["db", "local_stack"]  # the fixtures this module borrows
pytestmark = pytest.mark.stack
OTHER = "CP20261124-0000000002"


def facts(cid: str = CID, category: str | None = "billing/overcharge") -> CaseFacts:
    return CaseFacts(
        complaint_id=cid,
        received_at=RECEIVED,
        channel=Channel.HOTLINE,
        flags=(),
        severity_at_receipt=Severity.P3,
        category=category,
    )


def sent(key: str, status: DeliveryStatus, minutes: int) -> ReceiptSummary:
    return ReceiptSummary(
        notification_id=key,
        complaint_id=CID,
        audience=Audience.HANDLER,
        channel="webhook",
        template="staff_assigned",
        status=status,
        at=RECEIVED + timedelta(minutes=minutes),
    )


async def test_receipts_are_kept_per_notification_even_before_the_case(db: object) -> None:
    cases = MongoCaseStore(db)  # type: ignore[arg-type]
    dotted = f"{CID}:assigned:-:crm.7:handler"  # action ids may hold dots
    await cases.record_receipts([sent(dotted, DeliveryStatus.DEFERRED, 1)])
    await cases.save_started([(facts(), CaseState.CLASSIFIED, None)])
    await cases.record_receipts(
        [sent(dotted, DeliveryStatus.DELIVERED, 3), sent(f"{CID}:x", DeliveryStatus.FAILED, 2)]
    )
    kept = await cases.receipts(CID)
    assert [(r.notification_id, r.status) for r in kept] == [
        (f"{CID}:x", DeliveryStatus.FAILED),
        (dotted, DeliveryStatus.DELIVERED),
    ]
    record = await cases.load(CID)
    assert record is not None
    assert record.facts == facts()  # the early receipt did not shadow the case


async def test_assignment_category_and_lists(db: object) -> None:
    cases = MongoCaseStore(db)  # type: ignore[arg-type]
    await cases.save_started(
        [
            (facts(), CaseState.CLASSIFIED, None),
            (facts(OTHER, None), CaseState.CLASSIFIED, None),
        ]
    )
    record = await cases.load(CID)
    assert record is not None
    moved = open_case(severity=Severity.P3, state=CaseState.DISPATCHED)
    assert await cases.commit(record, moved, CaseChange(assignment=("handler-07", "billing")))
    again = await cases.load(CID)
    assert again is not None
    assert (again.assignee, again.department, again.facts.category) == (
        "handler-07",
        "billing",
        "billing/overcharge",
    )
    everything = await cases.search(CaseFilter())
    assert [r.facts.complaint_id for r in everything] == [CID, OTHER]
    dispatched = await cases.search(CaseFilter(state=CaseState.DISPATCHED, assignee="handler-07"))
    assert [r.facts.complaint_id for r in dispatched] == [CID]
    assert await cases.search(CaseFilter(category="billing/overcharge", severity=Severity.P3))
    assert await cases.search(CaseFilter(channel=Channel.WEB)) == []


async def test_the_clock_reader_sees_every_deadline_and_finds_the_due_ones(db: object) -> None:
    store, _ = stores(db, FakeClock(RECEIVED))
    reader = MongoClockReader(db)  # type: ignore[arg-type]
    await store.add([deadline(), deadline(f"{CID}:dispatch:1", minutes=120)])
    met = RECEIVED + timedelta(minutes=5)
    await store.stop_clocks(CID, [deadline().clock], status="met", at=met)
    clocks = await reader.clocks_of(CID)
    assert sorted((c.status, c.stopped_at) for c in clocks) == [("met", met), ("met", met)]
    await store.add([deadline(f"{CID}:first_contact:1", minutes=30)])
    due = await reader.running_due_by(RECEIVED + timedelta(minutes=45))
    assert [d.deadline_id for d in due] == [f"{CID}:first_contact:1"]
    assert await reader.running_due_by(RECEIVED) == []
    assert [d.deadline_id for d in await reader.running_of([CID, OTHER])] == [
        f"{CID}:first_contact:1"
    ]
    assert await reader.running_of([OTHER]) == []
