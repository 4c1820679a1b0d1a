"""MongoDB operations the SLA spends per complaint on the way to its acknowledgement (issue 14:
at most ~3), counted on the real local store."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient, monitoring

from contracts import Topic
from servicekit.bodies import deliver
from servicekit.commands import addresses_one_document
from servicekit.mongo import WRITE_CHUNK, Document
from sla.adapters.mongo_cases import MongoCaseStore
from sla.adapters.slots import MongoDueIndex
from sla.handlers import RECEIPTS
from tests._builders.sla import Rig, cid_n, classified, receipt
from tests.sla.contract import MONGO

pytestmark = pytest.mark.stack
COMPLAINTS = 64
WRITES_AND_READS = {"insert", "update", "find", "delete", "aggregate", "findAndModify"}


class Commands(monitoring.CommandListener):
    """Counts the commands sent to the server."""

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()
        self.singles = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in WRITES_AND_READS:
            self.seen[f"{event.command_name} {event.command.get(event.command_name)}"] += 1
            self.singles += addresses_one_document(event.command_name, event.command)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        """Nothing to count."""

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        """Nothing to count."""


@pytest.fixture
async def counted(local_stack: None) -> AsyncIterator[tuple[Any, Commands]]:
    commands = Commands()
    client: AsyncMongoClient[Document] = AsyncMongoClient(
        MONGO, tz_aware=True, retryWrites=False, event_listeners=[commands]
    )
    name = f"sla_ops_{uuid.uuid4().hex[:10]}"
    try:
        yield client[name], commands
    finally:
        await client.drop_database(name)
        await client.close()


async def test_classified_to_acknowledged_costs_at_most_three_operations_per_complaint(
    counted: tuple[Any, Commands],
) -> None:
    db, commands = counted
    rig = Rig(
        cases=MongoCaseStore(db),
        index=MongoDueIndex(db, width=10, settle=timedelta(seconds=10)),
    )
    ids = [cid_n(n) for n in range(1, COMPLAINTS + 1)]
    await rig.classified(*(classified(cid=cid) for cid in ids))
    started, singles_before = sum(commands.seen.values()), commands.singles
    messages = [
        rig.inbound(receipt(cid=cid).model_dump_json().encode(), Topic.NOTIFICATION_SENT)
        for cid in ids
    ]
    assert await deliver(RECEIPTS, rig.receipts.on_receipts, messages) == []
    total = sum(commands.seen.values())
    singles = commands.singles - singles_before
    spent = dict(commands.seen)
    for cid in ids:
        assert (await rig.record(cid)).case.acknowledged
    per_complaint = total / COMPLAINTS
    print(
        f"sla ops: {per_complaint:.2f} per complaint "
        f"(start {started}, receipts {total - started}: {spent})"
    )
    assert per_complaint <= 3.0
    # The batch: watermark, slot push, insert, the census tally's two updates — the
    # difference announced before the write, added after it (ADR 0024, 0029) — and the two
    # looks for acknowledgements kept ahead of their case, before the insert (they go into
    # it) and after it (those kept meanwhile: ADR 0042).
    assert started <= 7
    assert spent.get("find held_receipts") == 2
    # The receipts: the compare-and-sets in bulk commands of WRITE_CHUNK statements, the
    # tally's announcement and its `$inc`; no read: the cases were inserted by this store
    # (`load_started`, ADR 0042).
    assert total - started <= -(-COMPLAINTS // WRITE_CHUNK) + 2
    assert "find cases" not in spent
    assert spent.get("update census") == 4
    # No single-document command per complaint from receipt to acknowledgement: the two are the
    # census tally's, per batch.
    assert singles == 2
