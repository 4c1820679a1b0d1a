"""The SLA's MongoDB adapters against the real local FerretDB: slot index, leases, cases."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from pymongo import AsyncMongoClient

from contracts import CaseState, Channel, Severity, Verdict
from servicekit.clock import FakeClock
from servicekit.mongo import Document
from sla.adapters.mongo_cases import MongoCaseStore
from sla.adapters.mongo_deadlines import MongoDeadlineStore
from sla.domain import open_case
from sla.ports import CaseChange, CaseFacts
from tests.sla.test_handlers import CID, RECEIVED, deadline

ROOT = Path(__file__).resolve().parents[2]
MONGO = os.environ.get("COMPLAINTS_MONGO", "mongodb://127.0.0.1:27017")
pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def local_stack() -> None:
    """Start (or reuse) the local servers."""
    subprocess.run([sys.executable, str(ROOT / "deploy" / "local" / "stack.py"), "up"], check=True)


@pytest.fixture
async def db(local_stack: None) -> AsyncIterator[object]:
    """A fresh database per test, dropped afterwards."""
    client: AsyncMongoClient[Document] = AsyncMongoClient(MONGO, tz_aware=True, retryWrites=False)
    name = f"sla_test_{uuid.uuid4().hex[:10]}"
    yield client[name]
    await client.drop_database(name)
    await client.close()


def stores(db: object, clock: FakeClock) -> tuple[MongoDeadlineStore, MongoDeadlineStore]:
    """Two replicas' deadline stores over one database."""
    return (
        MongoDeadlineStore(db, clock=clock, slot_width=10),  # type: ignore[arg-type]
        MongoDeadlineStore(db, clock=clock, slot_width=10),  # type: ignore[arg-type]
    )


async def test_due_thresholds_are_claimed_once_across_replicas_and_in_order(db: object) -> None:
    clock = FakeClock(RECEIVED)
    a, b = stores(db, clock)
    await a.add([deadline(), deadline(f"{CID}:dispatch:1", minutes=120)])
    now = RECEIVED + timedelta(minutes=31)
    clock.set(now)
    lease = now + timedelta(seconds=30)
    got_a = await a.claim_due(now=now, owner="a", lease_until=lease, limit=100)
    got_b = await b.claim_due(now=now, owner="b", lease_until=lease, limit=100)
    assert [d.deadline_id for d in got_a] == [f"{CID}:acknowledge:1"]
    assert got_b == []
    await a.fired(got_a[0], percent=50, owner="a")
    # The next threshold (breach at 60 min) is indexed; nothing more is due at 31 min.
    assert await b.claim_due(now=now, owner="b", lease_until=lease, limit=100) == []
    later = RECEIVED + timedelta(minutes=61)
    clock.set(later)
    got = {
        d.deadline_id: d
        for d in await b.claim_due(now=later, owner="b", lease_until=later, limit=100)
    }
    # The acknowledge breach (60 min) and dispatch's 50 % (60 min) come in the same round.
    assert set(got) == {f"{CID}:acknowledge:1", f"{CID}:dispatch:1"}
    ack = got[f"{CID}:acknowledge:1"]
    assert ack.fired == (50,)
    assert ack.next_threshold() is not None
    assert ack.next_threshold().percent == 100  # type: ignore[union-attr]


async def test_a_dead_replicas_lease_is_taken_over_after_it_expires(db: object) -> None:
    clock = FakeClock(RECEIVED)
    a, b = stores(db, clock)
    await a.add([deadline()])
    now = RECEIVED + timedelta(minutes=31)
    [claimed] = await a.claim_due(
        now=now, owner="a", lease_until=now + timedelta(seconds=30), limit=10
    )
    assert claimed  # replica a dies here without firing
    soon = now + timedelta(seconds=10)
    assert (
        await b.claim_due(now=soon, owner="b", lease_until=soon + timedelta(seconds=30), limit=10)
        == []
    )
    expired = now + timedelta(seconds=31)
    [taken] = await b.claim_due(
        now=expired, owner="b", lease_until=expired + timedelta(seconds=30), limit=10
    )
    await b.fired(taken, percent=50, owner="b")
    await a.fired(claimed, percent=50, owner="a")  # the late owner changes nothing
    [doc] = await db["deadlines"].find({"_id": claimed.deadline_id}).to_list(None)  # type: ignore[index]
    assert doc["fired"] == [50]
    assert doc["status"] == "pending"


async def test_watermark_passes_settled_slots_and_late_entries_are_not_lost(db: object) -> None:
    clock = FakeClock(RECEIVED)
    a, _ = stores(db, clock)
    await a.add([deadline(minutes=2)])
    now = RECEIVED + timedelta(minutes=5)
    clock.set(now)
    [claimed] = await a.claim_due(
        now=now, owner="a", lease_until=now + timedelta(seconds=30), limit=10
    )
    await a.fired(claimed, percent=50, owner="a")
    # A deadline whose thresholds already passed lands in the slot of now, not behind the watermark.
    await a.add([deadline(f"{CID}:dispatch:1", minutes=1)])
    got = await a.claim_due(now=now, owner="a", lease_until=now + timedelta(seconds=30), limit=10)
    assert {d.deadline_id for d in got} == {f"{CID}:acknowledge:1", f"{CID}:dispatch:1"}
    for d in got:
        await a.fired(d, percent=d.next_threshold().percent, owner="a")  # type: ignore[union-attr]
    later = now + timedelta(minutes=2)
    await a.claim_due(now=later, owner="a", lease_until=later, limit=10)
    [state] = await db["scheduler_state"].find({}).to_list(None)  # type: ignore[index]
    assert state["slot"] > int(RECEIVED.timestamp())


async def test_replan_is_applied_once_per_action_and_stop_reports_unannounced(db: object) -> None:
    clock = FakeClock(RECEIVED)
    a, _ = stores(db, clock)
    await a.add([deadline()])
    [running] = await a.open_for(CID)
    from dataclasses import replace

    later = replace(running, due_at=running.due_at + timedelta(hours=1))
    await a.replan([later], action_id="x-1")
    await a.replan([replace(later, due_at=later.due_at + timedelta(hours=5))], action_id="x-1")
    [now_running] = await a.open_for(CID)
    assert now_running.due_at == later.due_at
    stopped = await a.stop_clocks(CID, [running.clock], status="met", at=RECEIVED)
    assert [d.deadline_id for d in stopped] == [running.deadline_id]
    again = await a.stop_clocks(CID, [running.clock], status="met", at=RECEIVED)
    assert [d.deadline_id for d in again] == [running.deadline_id]  # never announced yet
    await a.announced([running.deadline_id])
    assert await a.stop_clocks(CID, [running.clock], status="met", at=RECEIVED) == []
    assert await a.open_for(CID) == []


async def test_case_commit_is_compare_and_set_with_an_outbox(db: object) -> None:
    cases = MongoCaseStore(db)  # type: ignore[arg-type]
    facts = CaseFacts(
        complaint_id=CID,
        received_at=RECEIVED,
        channel=Channel.HOTLINE,
        flags=(),
        severity_at_receipt=Severity.P3,
        complainant_key="ck_" + "b" * 32,
    )
    await cases.save_started([(facts, CaseState.CLASSIFIED, None)])
    record = await cases.load(CID)
    assert record is not None
    assert record.facts == facts
    assert record.case == open_case(severity=Severity.P3)
    moved = open_case(severity=Severity.P3, state=CaseState.ACKNOWLEDGED)
    assert await cases.commit(record, moved, CaseChange(pause=(RECEIVED, RECEIVED)))
    assert not await cases.commit(record, moved, CaseChange())  # stale version
    await cases.raise_severity(CID, Severity.P2)
    again = await cases.load(CID)
    assert again is not None
    assert again.case.state is CaseState.ACKNOWLEDGED
    assert again.case.severity is Severity.P2
    verdicts = await cases.record_verdict(
        facts.complainant_key or "", complaint_id=CID, at=RECEIVED, verdict=Verdict.BASELESS
    )
    verdicts = await cases.record_verdict(
        facts.complainant_key or "", complaint_id=CID, at=RECEIVED, verdict=Verdict.BASELESS
    )
    assert verdicts == [(RECEIVED, Verdict.BASELESS)]


async def test_census_groups_on_the_server(db: object) -> None:
    clock = FakeClock(RECEIVED)
    a, _ = stores(db, clock)
    await a.add([deadline(), deadline(f"{CID}:dispatch:1", minutes=120)])
    await a.stop_clocks(CID, [deadline().clock], status="met", at=RECEIVED + timedelta(minutes=5))
    rows = {(c, s, st, o): n for c, s, st, o, n in await a.census()}
    # Both hand-made deadlines are acknowledge clocks: both stop, in time.
    assert rows == {("acknowledge", "P4", "met", "on_time"): 2}


async def test_a_refusal_is_kept_with_the_case(db: object) -> None:
    cases = MongoCaseStore(db)  # type: ignore[arg-type]
    facts = CaseFacts(
        complaint_id=CID,
        received_at=RECEIVED,
        channel=Channel.HOTLINE,
        flags=(),
        severity_at_receipt=Severity.P3,
    )
    await cases.save_started([(facts, CaseState.CLASSIFIED, None)])
    await cases.record_refusal(CID, "crm.4471$x", reason="illegal_transition", detail="no")
    record = await cases.load(CID)
    assert record is not None
    assert record.refusals == {"crm.4471$x": ("illegal_transition", "no")}
    assert record.version == 0
