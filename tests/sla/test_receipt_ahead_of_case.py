"""A delivered acknowledgement that reaches the SLA before its case is stored is kept, not
dropped: the SLA reads the classified topic and the receipts topic on their own, so under load
the notifier's receipt can come first. The case then starts acknowledged. Run over the fake and
the real store (the `adapters` fixture)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import cast

from contracts import CaseState, ClockName, ClockStatus
from sla.held import HeldReceipt
from sla.ports import CaseChange, CaseRecord, CaseStore
from tests._builders.sla import CID, RECEIVED, Rig, cid_n, classified, on_receipts, receipt
from tests.sla.contract import Adapters

LATER = RECEIVED + timedelta(minutes=10)


async def test_kept_receipts_are_read_back_by_case_and_dropped(adapters: Adapters) -> None:
    store = adapters.cases()
    first = HeldReceipt(CID, "receipt:a", RECEIVED)
    await store.hold_receipts([first, HeldReceipt(cid_n(2), "receipt:b", LATER)])
    await store.hold_receipts([HeldReceipt(CID, "receipt:c", LATER)])  # the first kept stays
    assert await store.held_receipts([CID, cid_n(3)]) == {CID: first}
    await store.drop_receipts([CID])
    assert await store.held_receipts([CID, cid_n(2)]) == {
        cid_n(2): HeldReceipt(cid_n(2), "receipt:b", LATER)
    }


async def _assert_acknowledged_at_receipt(rig: Rig) -> None:
    record = await rig.record()
    assert record.case.acknowledged
    assert record.case.state is CaseState.ACKNOWLEDGED
    assert [row.action_id for row in record.case.history] == [f"receipt:{CID}:ack:-:-:customer"]
    ack = next(c for c in record.clocks if c.key == "acknowledge:1")
    assert (ack.status, ack.stopped_at) == (ClockStatus.MET, LATER)
    assert await rig.cases.held_receipts([CID]) == {}  # nothing left behind


async def test_a_receipt_before_its_case_acknowledges_the_case_when_it_starts(
    adapters: Adapters,
) -> None:
    rig = Rig(cases=adapters.cases())
    rig.clock.set(LATER)
    await on_receipts(rig, receipt(at=LATER))
    assert await rig.cases.load(CID) is None
    await rig.classified(classified())
    await _assert_acknowledged_at_receipt(rig)
    labels = {"clock": "acknowledge", "outcome": "on_time"}
    assert rig.registry.get_sample_value("complaints_deadlines_met_total", labels) == 1
    # The met clock never warns, however late the scheduler looks.
    rig.clock.set(RECEIVED + timedelta(minutes=59))
    await rig.scheduler("a").run_once()
    assert not [e for e in rig.publisher.sla if e.data.clock is ClockName.ACKNOWLEDGE]


class _StartsWhileHolding:
    """The case store, with the case's start slipped in between the receipt handler's first
    look (no case) and its keeping the receipt: the start finds nothing kept."""

    def __init__(self, store: CaseStore, rig: Rig) -> None:
        self._store = store
        self.rig = rig

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)

    async def hold_receipts(self, receipts: Sequence[HeldReceipt]) -> None:
        await self.rig.classified(classified())
        assert await self._store.held_receipts([CID]) == {}
        await self._store.hold_receipts(receipts)


async def test_a_case_started_between_the_look_and_the_keeping_is_acknowledged(
    adapters: Adapters,
) -> None:
    store = adapters.cases()
    rig = Rig(cases=store)
    rig.clock.set(LATER)
    rig.receipts.cases = _StartsWhileHolding(store, rig)  # type: ignore[assignment]
    await on_receipts(rig, receipt(at=LATER))
    await _assert_acknowledged_at_receipt(rig)


class _CountsCommits:
    """The case store, counting the compare-and-sets it is asked for."""

    def __init__(self, store: CaseStore) -> None:
        self._store = store
        self.changes = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)

    async def commit_many(self, changes: Sequence[tuple[CaseRecord, CaseChange]]) -> set[str]:
        self.changes += len(changes)
        return await self._store.commit_many(changes)


async def test_a_receipt_kept_ahead_of_its_case_goes_into_the_insert(adapters: Adapters) -> None:
    """No compare-and-set: the case is inserted acknowledged (ADR 0042), its snapshot says so."""
    store = _CountsCommits(adapters.cases())
    rig = Rig(cases=cast(CaseStore, store))
    rig.clock.set(LATER)
    await on_receipts(rig, receipt(at=LATER))
    await rig.classified(classified())
    assert store.changes == 0
    await _assert_acknowledged_at_receipt(rig)
    assert (await rig.record()).version == 1
    labels = {"clock": "acknowledge", "outcome": "on_time"}
    assert rig.registry.get_sample_value("complaints_deadlines_met_total", labels) == 1
    latest = rig.publisher.latest()[CID].data
    assert (latest.version, latest.acknowledged, latest.state) == (1, True, CaseState.ACKNOWLEDGED)
    await rig.classified(classified())  # a redelivery changes nothing
    assert (await rig.record()).version == 1
    assert store.changes == 0
