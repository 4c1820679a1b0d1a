"""The census tally (ADR 0024) equals a full recount of the stored sheets, over the fake and the
real store: after inserts and redelivered inserts, won and lost compare-and-sets, batched ones
raced across chunks, the use-cases' own changes, redelivered batches and scheduler firings."""

from __future__ import annotations

from dataclasses import replace

from contracts import ClockStatus, LifecycleAction, Severity
from servicekit.bodies import deliver
from sla.adapters.census_tally import difference, rows, summed
from sla.clocks.sheet import compact
from sla.handlers import LIFECYCLE, RECEIPTS
from sla.ports import CaseStore
from tests._builders.sla import RECEIVED, Rig, cid_n, classified, clock_entry, receipt
from tests._builders.sla_actions import action, at
from tests._builders.sla_census import met, record
from tests.sla.contract import Adapters


async def same(store: CaseStore) -> list[tuple[str, str, str, str, int]]:
    """The census, checked against the recount."""
    census = await store.census()
    assert census == await store.recount()
    return census


def test_a_difference_is_what_the_sheet_gained_and_lost() -> None:
    before = (clock_entry(),)
    after = (replace(clock_entry(), status=ClockStatus.MET, stopped_at=RECEIVED),)
    assert dict(difference(before, after)) == {
        "acknowledge|P4|running|": -1,
        "acknowledge|P4|met|on_time": 1,
    }
    assert difference(after, after) == {}
    assert summed([difference(before, after), difference(after, before)]) == {}
    assert rows({"acknowledge|P4|running|": 0, "dispatch|P1|met|late": 2}) == [
        ("dispatch", "P1", "met", "late", 2)
    ]


async def test_the_tally_follows_inserts_races_and_batches(adapters: Adapters) -> None:
    mine, theirs = adapters.cases(), adapters.cases()
    assert await same(mine) == []
    await mine.insert_new([record(n) for n in range(1, 41)])
    assert await mine.insert_new([record(1), record(41, Severity.P2)]) == [cid_n(1)]  # redelivery
    assert await same(mine) == [
        ("acknowledge", "P2", "running", "", 2),
        ("acknowledge", "P4", "running", "", 80),
    ]
    cids = [cid_n(n) for n in range(1, 42)]
    read = await mine.load_many(cids, log=False)
    raced = [cids[2], cids[35]]  # one in each chunk of 32
    for cid in raced:
        fresh = await theirs.load(cid)
        assert fresh is not None
        assert await theirs.commit(fresh, met(fresh, "theirs", late=True))
    won = await mine.commit_many([(read[c], met(read[c], f"mine-{c}")) for c in cids])
    assert won == set(cids) - set(raced)
    assert not await mine.commit(read[cids[0]], met(read[cids[0]], "again"))  # a stale retry
    census = await same(mine)
    assert ("acknowledge", "P4", "met", "late", 4) in census  # the rivals' changes, once
    # A repeating clock's closed occurrences folded into one: the counts stay.
    stored = await theirs.load(cids[2])
    assert stored is not None
    folded = compact(stored.clocks, at=RECEIVED)
    assert len(folded) == 1
    assert await theirs.commit(stored, replace(met(stored, "fold"), clocks=folded))
    assert await same(theirs) == census


async def test_the_tally_follows_the_use_cases_redeliveries_and_firings(
    adapters: Adapters,
) -> None:
    rig = Rig(cases=adapters.cases(), index=adapters.due_index())
    cids = [cid_n(n) for n in range(1, 7)]
    batch = [
        classified(cid=c, severity=[Severity.P2, Severity.P4][i % 2]) for i, c in enumerate(cids)
    ]
    await rig.classified(*batch)
    await rig.classified(*batch)  # redelivered
    assert await same(rig.cases)
    late = receipt(cid=cids[1], at=at(30))
    for _ in range(2):  # delivered twice: the second acknowledges nothing
        assert (
            await deliver(
                RECEIPTS,
                rig.receipts.on_receipts,
                [rig.inbound(r.model_dump_json().encode()) for r in (receipt(cid=cids[0]), late)],
            )
            == []
        )
    for _ in range(2):
        assign = action(LifecycleAction.ASSIGNED, at(0.5), cid=cids[0], assignee="handler-7")
        await deliver(
            LIFECYCLE, rig.actions.on_lifecycle, [rig.inbound(assign.model_dump_json().encode())]
        )
    rig.clock.set(at(60))  # past every first-contact clock: warnings and breaches fire
    scheduler = rig.scheduler("a")
    while await scheduler.run_once():
        pass
    census = await same(rig.cases)
    outcomes = {(clock, outcome) for clock, _, _, outcome, _ in census}
    assert {("acknowledge", "on_time"), ("acknowledge", "late"), ("first_contact", "overdue")} <= (
        outcomes
    )
