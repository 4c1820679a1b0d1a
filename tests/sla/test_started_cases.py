"""`CaseStore.load_started`: a case this store inserted lately comes as inserted, without a
read, for the compare-and-set that acknowledges it (ADR 0042). Over the fake and the real store:
what it returns is what a read would, and a stale copy (another writer changed the case since)
loses its compare-and-set and is read again, so the acknowledgement still lands."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from contracts import CaseState, ClockName, ClockStatus
from sla.adapters.mongo_cases import MongoCaseStore
from sla.ports import CaseChange, LogEntry
from tests._builders.sla import CID, RECEIVED, Rig, cid_n, classified, on_receipts, receipt
from tests.sla.contract import Adapters

LATER = RECEIVED + timedelta(minutes=10)


async def test_a_started_case_reads_as_a_read_would_and_only_once(adapters: Adapters) -> None:
    mine, theirs = adapters.cases(), adapters.cases()
    rig = Rig(cases=mine)
    await rig.classified(classified(), classified(cid=cid_n(2)))
    read = await theirs.load_many([CID, cid_n(2)], log=False)
    assert set(read) == {CID, cid_n(2)}
    started = await mine.load_started([CID, cid_n(2), cid_n(9)])
    assert started == read  # the same record to the millisecond, without its log
    assert started[CID].log == ()
    assert await mine.load_started([CID]) == {CID: read[CID]}  # the second comes from a read


async def test_a_case_changed_here_is_read_not_remembered(adapters: Adapters) -> None:
    store = adapters.cases()
    rig = Rig(cases=store)
    await rig.classified(classified())
    stored = await store.load(CID, log=False)
    assert stored is not None
    moved = CaseChange(
        replace(stored.case, state=CaseState.DISPATCHED), stored.clocks, LogEntry("x", LATER)
    )
    assert await store.commit(stored, moved)
    started = await store.load_started([CID])
    assert (started[CID].version, started[CID].case.state) == (1, CaseState.DISPATCHED)


async def test_a_stale_started_case_loses_its_write_and_is_acknowledged_after_a_read(
    adapters: Adapters,
) -> None:
    """Another replica dispatches the case between its start here and its receipt: the copy
    kept here is stale, its compare-and-set loses, and the receipt acknowledges the stored case
    on top of the other replica's change."""
    mine, theirs = adapters.cases(), adapters.cases()
    rig = Rig(cases=mine)
    await rig.classified(classified())
    stored = await theirs.load(CID, log=False)
    assert stored is not None
    moved = CaseChange(
        replace(stored.case, state=CaseState.DISPATCHED), stored.clocks, LogEntry("x", LATER)
    )
    assert await theirs.commit(stored, moved)
    if isinstance(mine, MongoCaseStore):  # the real store kept the inserted copy: stale now
        assert mine._started[CID]  # the precondition of this test
    rig.clock.set(LATER)
    await on_receipts(rig, receipt(at=LATER))
    record = await theirs.load(CID)
    assert record is not None
    assert (record.version, record.case.state, record.case.acknowledged) == (
        2,
        CaseState.DISPATCHED,
        True,
    )
    assert [e.id for e in record.log][-2:] == ["x", f"receipt:{CID}:ack:-:-:customer"]
    ack = next(c for c in record.clocks if c.clock is ClockName.ACKNOWLEDGE)
    assert (ack.status, ack.stopped_at) == (ClockStatus.MET, LATER)
    assert rig.publisher.latest()[CID].data.version == 2  # the snapshot says what is stored


async def test_the_kept_copies_are_bounded(adapters: Adapters) -> None:
    if adapters.kind != "mongo":
        return  # the fake keeps no copies
    store = MongoCaseStore(adapters.db, kept=3)
    rig = Rig(cases=store)
    await rig.classified(*(classified(cid=cid_n(n)) for n in range(5)))
    assert list(store._started) == [cid_n(2), cid_n(3), cid_n(4)]  # the oldest forgotten
