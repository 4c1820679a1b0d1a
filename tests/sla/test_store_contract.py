"""Contract of the SLA's ports, run over the in-memory fakes and the real store alike."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from contracts import CaseState, Channel, ClockStatus, Severity, Verdict
from contracts.read_models import CASE_FACTS, CASE_SHEETS
from servicekit.mongo import WRITE_CHUNK
from servicekit.read_models import read
from sla.adapters.mongo_cases import MongoCaseStore
from sla.clocks.firing import fired_event
from sla.clocks.sheet import Lease
from sla.domain import open_case
from sla.ports import (
    CaseChange,
    CaseFacts,
    CaseFilter,
    CasePaging,
    CaseRecord,
    LogEntry,
    Submission,
)
from tests._builders.sla import CID, RECEIVED, cid_n, clock_entry
from tests.sla.contract import Adapters
from tests.stores import fresh_database, mongo_server

OTHER = cid_n(2)
WARNED = fired_event(CID, clock_entry(), clock_entry().thresholds[0], now=RECEIVED)


def record(cid: str = CID, **fields: object) -> CaseRecord:
    """A new P4 hotline case with an acknowledge clock."""
    facts = CaseFacts(cid, RECEIVED, Channel.HOTLINE, (), Severity.P4, category="billing/x")
    base = CaseRecord(facts, open_case(severity=Severity.P4), 0, clocks=(clock_entry(),))
    return replace(base, **fields)  # type: ignore[arg-type]


def change(stored: CaseRecord, entry_id: str, **fields: object) -> CaseChange:
    """A change moving the case to dispatched and meeting its clock."""
    case = replace(stored.case, state=CaseState.DISPATCHED)
    met = tuple(replace(c, status=ClockStatus.MET, stopped_at=RECEIVED) for c in stored.clocks)
    event = WARNED.model_copy(update={"id": f"ev-{entry_id}"})
    return CaseChange(case, met, LogEntry(entry_id, RECEIVED, (event,)), **fields)  # type: ignore[arg-type]


async def test_a_case_is_inserted_once_and_read_back_whole(adapters: Adapters) -> None:
    store = adapters.cases()
    new = record(log=(LogEntry("clocks-started", RECEIVED, (WARNED,)),))
    assert await store.insert_new([new, record(OTHER)]) == []
    assert await store.insert_new([replace(new, version=7), record(cid_n(3))]) == [CID]
    loaded = await store.load(CID)
    assert loaded == new  # the first insert wins; clock sheet and log round-trip exactly
    assert set(await store.load_many([CID, OTHER, cid_n(9)])) == {CID, OTHER}
    assert await store.load(cid_n(9)) is None


async def test_compare_and_set_is_lost_to_a_concurrent_writer(adapters: Adapters) -> None:
    mine, theirs = adapters.cases(), adapters.cases()
    await mine.insert_new([record()])
    read_by_me, read_by_them = await mine.load(CID), await theirs.load(CID)
    assert read_by_me is not None
    assert read_by_them is not None
    assert await theirs.commit(read_by_them, change(read_by_them, "theirs"))
    assert not await mine.commit(read_by_me, change(read_by_me, "mine"))
    stored = await mine.load(CID)
    assert stored is not None
    assert stored.version == 1
    assert [e.id for e in stored.log] == ["theirs"]
    assert stored.clocks[0].status is ClockStatus.MET
    assert await mine.commit(stored, change(stored, "mine"))  # after a fresh read it wins


async def test_compare_and_sets_in_flight_together_win_per_case_and_once_per_version(
    adapters: Adapters,
) -> None:
    """The lifecycle consumer applies different cases' actions side by side (ADR 0013)."""
    store = adapters.cases()
    cids = [cid_n(n) for n in range(10, 18)]
    await store.insert_new([record(c) for c in cids])
    read = await store.load_many(cids)
    different = [store.commit(read[c], change(read[c], f"a-{c}")) for c in cids]
    same = [store.commit(read[cids[0]], change(read[cids[0]], f"b-{n}")) for n in range(4)]
    won = await asyncio.gather(*different, *same)
    assert sum(won) == len(cids)  # every case once: of one version's five rivals one wins
    stored = await store.load_many(cids)
    assert {c: (r.version, len(r.log)) for c, r in stored.items()} == dict.fromkeys(cids, (1, 1))
    rivals = [f"a-{cids[0]}", *(f"b-{n}" for n in range(4))]
    [winner] = [r for r, w in zip(rivals, [won[0], *won[len(cids) :]], strict=True) if w]
    assert [e.id for e in stored[cids[0]].log] == [winner]


async def test_batched_compare_and_sets_say_which_won_across_chunks(adapters: Adapters) -> None:
    """More cases than one bulk command holds (`WRITE_CHUNK`), two of them changed by another
    writer between read and write: every other change is stored, and exactly those two lost."""
    mine, theirs = adapters.cases(), adapters.cases()
    cids = [cid_n(n) for n in range(100, 100 + WRITE_CHUNK + 8)]
    await mine.insert_new([record(c) for c in cids])
    read = await mine.load_many(cids, log=False)
    raced = [cids[3], cids[WRITE_CHUNK + 2]]  # one in each chunk
    for cid in raced:
        fresh = await theirs.load(cid)
        assert fresh is not None
        assert await theirs.commit(fresh, change(fresh, "theirs"))
    won = await mine.commit_many([(read[c], change(read[c], f"mine-{c}")) for c in cids])
    assert won == set(cids) - set(raced)
    stored = await mine.load_many(cids)
    for cid in cids:
        expected = ["theirs"] if cid in raced else [f"mine-{cid}"]
        assert ([e.id for e in stored[cid].log], stored[cid].version) == (expected, 1)
    assert await mine.commit_many([]) == set()


async def test_a_firing_stays_unpublished_until_marked_and_the_mark_keeps_the_version(
    adapters: Adapters,
) -> None:
    store = adapters.cases()
    await store.insert_new([record()])
    first = await store.load(CID)
    assert first is not None
    leased = tuple(replace(c, lease=Lease("a", RECEIVED)) for c in first.clocks)
    firing = CaseChange(first.case, leased, LogEntry("fire:1", RECEIVED, (WARNED,)), True)
    assert await store.commit(first, firing)
    fired = await store.load(CID)
    assert fired is not None
    assert fired.unpublished == ("fire:1",)
    assert fired.clocks[0].lease == Lease("a", RECEIVED)
    # A staff action stored meanwhile (on the version it read) neither hides nor repeats it.
    assert await store.commit(fired, change(fired, "staff"))
    await store.mark_published([(CID, "fire:1")])
    after = await store.load(CID)
    assert after is not None
    assert (after.unpublished, after.version) == ((), 2)
    assert [e.id for e in after.log] == ["fire:1", "staff"]


async def test_refusals_assignment_and_dates_are_kept(adapters: Adapters) -> None:
    store = adapters.cases()
    await store.insert_new([record()])
    await store.record_refusal(CID, "crm.7", reason="illegal_transition", detail="no")
    stored = await store.load(CID)
    assert stored is not None
    assigned = change(stored, "a-1", assignment=("handler-07", "billing"))
    assert await store.commit(stored, assigned)
    again = await store.load(CID)
    assert again is not None
    assert again.refusals == {"crm.7": ("illegal_transition", "no")}
    assert (again.assignee, again.department) == ("handler-07", "billing")


async def test_lists_filter_and_carry_the_running_clocks(adapters: Adapters) -> None:
    store = adapters.cases()
    await store.insert_new([record(), record(OTHER)])
    stored = await store.load(CID)
    assert stored is not None
    assert await store.commit(stored, change(stored, "a-1", assignment=("handler-07", None)))
    everything = await store.search(CaseFilter())
    assert [r.facts.complaint_id for r in everything] == [CID, OTHER]
    assert [len(r.running) for r in everything] == [0, 1]  # CID's clock was met
    dispatched = await store.search(CaseFilter(state=CaseState.DISPATCHED, assignee="handler-07"))
    assert [r.facts.complaint_id for r in dispatched] == [CID]
    assert await store.search(CaseFilter(category="billing/x", severity=Severity.P4))
    assert await store.search(CaseFilter(channel=Channel.WEB)) == []


async def test_census_counts_clocks_by_status_and_outcome(adapters: Adapters) -> None:
    store = adapters.cases()
    await store.insert_new([record(), record(OTHER)])
    stored = await store.load(CID)
    assert stored is not None
    assert await store.commit(stored, change(stored, "a-1"))
    assert await store.census() == [
        ("acknowledge", "P4", "met", "on_time", 1),
        ("acknowledge", "P4", "running", "", 1),
    ]


async def test_a_verdict_counts_once_per_complaint(adapters: Adapters) -> None:
    store = adapters.cases()
    for _ in range(2):
        verdicts = await store.record_verdict(
            "ck", complaint_id=CID, at=RECEIVED, verdict=Verdict.BASELESS
        )
    assert verdicts == [(RECEIVED, Verdict.BASELESS)]


# --- the due index ---------------------------------------------------------------------------


async def test_due_entries_are_read_in_time_until_settled(adapters: Adapters) -> None:
    index = adapters.due_index()
    soon = (f"{CID}:acknowledge:1", RECEIVED + timedelta(minutes=30), 50)
    late = (f"{OTHER}:acknowledge:1", RECEIVED + timedelta(minutes=90), 50)
    await index.add([soon, late], now=RECEIVED)
    assert await index.due(now=RECEIVED + timedelta(minutes=29), limit=10) == []
    now = RECEIVED + timedelta(minutes=31)
    [(slot, entry)] = await index.due(now=now, limit=10)
    assert entry == soon
    assert index.upcoming() in {late[1], None}  # read ahead only within the next slot or so
    await index.advance(now=now)
    assert [e for _, e in await index.due(now=now, limit=10)] == [soon]  # unsettled: again
    index.settle(slot, entry)
    await index.advance(now=now + timedelta(minutes=1))
    assert await index.due(now=now + timedelta(minutes=1), limit=10) == []
    later = RECEIVED + timedelta(minutes=91)
    assert [e for _, e in await index.due(now=later, limit=10)] == [late]


async def test_an_entry_indexed_late_is_read_at_once(adapters: Adapters) -> None:
    index = adapters.due_index()
    now = RECEIVED + timedelta(hours=1)
    await index.add([(f"{OTHER}:dispatch:1", RECEIVED + timedelta(hours=2), 50)], now=RECEIVED)
    await index.advance(now=now)
    past = (f"{CID}:acknowledge:1", RECEIVED, 100)
    await index.add([past], now=now)  # already due when written (a threshold in the past)
    assert [e for _, e in await index.due(now=now, limit=10)] == [past]


async def test_replicas_settle_on_their_own_and_the_shared_index_waits(
    adapters: Adapters,
) -> None:
    a, b = adapters.due_index(), adapters.due_index()
    entry = (f"{CID}:acknowledge:1", RECEIVED + timedelta(minutes=30), 50)
    await a.add([entry], now=RECEIVED)
    now = RECEIVED + timedelta(minutes=31)
    [(slot, seen_by_a)] = await a.due(now=now, limit=10)
    assert [e for _, e in await b.due(now=now, limit=10)] == [entry]
    a.settle(slot, seen_by_a)
    await a.advance(now=now)
    assert await a.due(now=now, limit=10) == []


async def test_a_replica_behind_the_shared_watermark_reads_on_from_where_it_is_now(
    adapters: Adapters,
) -> None:
    a, b = adapters.due_index(), adapters.due_index()
    early = (f"{CID}:acknowledge:1", RECEIVED + timedelta(minutes=30), 50)
    late = (f"{OTHER}:dispatch:1", RECEIVED + timedelta(hours=2), 50)
    await a.add([early, late], now=RECEIVED)
    now = RECEIVED + timedelta(minutes=31)
    assert [e for _, e in await b.due(now=now, limit=10)] == [early]  # b saw the old watermark
    [(slot, seen)] = await a.due(now=now, limit=10)
    a.settle(slot, seen)
    await a.advance(now=now + timedelta(minutes=1))  # a moves it past early's slot
    later = RECEIVED + timedelta(hours=2, minutes=1)
    assert [e for _, e in await b.due(now=later, limit=10)] == [late]
    assert [e for _, e in await a.due(now=later, limit=10)] == [late]


async def test_a_case_read_without_its_log_commits_without_losing_it(adapters: Adapters) -> None:
    store = adapters.cases()
    await store.insert_new([record(log=(LogEntry("clocks-started", RECEIVED, (WARNED,)),))])
    light = (await store.load_many([CID], log=False))[CID]
    assert light.log == ()
    assert light.clocks == record().clocks
    assert await store.commit(light, change(light, "a-1"))
    stored = await store.load(CID)
    assert stored is not None
    assert [e.id for e in stored.log] == ["clocks-started", "a-1"]
    assert stored.log[0].events == (WARNED,)


async def test_a_list_page_is_ordered_limited_and_continues_after_its_last_row(
    adapters: Adapters,
) -> None:
    store = adapters.cases()
    late = replace(record(cid_n(5)).facts, received_at=RECEIVED + timedelta(minutes=1))
    await store.insert_new(
        [record(cid_n(4)), record(cid_n(3)), record(cid_n(5), facts=late), record(cid_n(2))]
    )
    first = await store.search(CaseFilter(), CasePaging(limit=2))
    assert [r.facts.complaint_id for r in first] == [cid_n(2), cid_n(3)]  # same time: by id
    last = first[-1].facts
    rest = await store.search(CaseFilter(), CasePaging(after=(last.received_at, last.complaint_id)))
    assert [r.facts.complaint_id for r in rest] == [cid_n(4), cid_n(5)]
    filtered = CasePaging(after=(RECEIVED, cid_n(4)), limit=5)
    assert [r.facts.complaint_id for r in await store.search(CaseFilter(), filtered)] == [cid_n(5)]


async def test_pages_walk_every_match_in_order_whatever_the_insertion_order(
    adapters: Adapters,
) -> None:
    # Receipt times repeat (ties go by id) and the cases arrive shuffled, two categories
    # interleaved: paging with the keyset yields each match once, in order, for a filter that
    # walks its own index (category) and for none (the order's index) alike.
    store = adapters.cases()
    cases = []
    for n in range(40):
        at = RECEIVED + timedelta(seconds=(n * 7) % 10)
        facts = replace(record().facts, complaint_id=cid_n(100 + (n * 13) % 40), received_at=at)
        facts = replace(facts, category="billing/x" if n % 3 else "network/y")
        cases.append(record(facts.complaint_id, facts=facts))
    await store.insert_new(cases)
    for query in (CaseFilter(), CaseFilter(category="network/y")):
        wanted = sorted(
            (c.facts.received_at, c.complaint_id)
            for c in cases
            if query.category in {None, c.facts.category}
        )
        walked: list[tuple[object, str]] = []
        paging = CasePaging(limit=6)
        while batch := await store.search(query, paging):
            walked += [(r.facts.received_at, r.facts.complaint_id) for r in batch]
            last = batch[-1].facts
            paging = CasePaging(limit=6, after=(last.received_at, last.complaint_id))
        assert walked == wanted, query


async def test_a_list_filters_on_running_clocks_due_by_or_within(adapters: Adapters) -> None:
    store = adapters.cases()
    soon = record(OTHER, clocks=(clock_entry(minutes=30),))
    await store.insert_new([record(), soon])
    stored = await store.load(CID)
    assert stored is not None
    met = replace(stored.clocks[0], status=ClockStatus.MET, stopped_at=RECEIVED)
    late = record(cid_n(3), clocks=(met, clock_entry("acknowledge:2", minutes=90)))
    await store.insert_new([late])

    at_45 = RECEIVED + timedelta(minutes=45)
    due = await store.search(CaseFilter(), CasePaging(due_by=at_45))
    assert [r.facts.complaint_id for r in due] == [OTHER]  # the met clock never counts
    window = CasePaging(due_between=(at_45, RECEIVED + timedelta(minutes=90)))
    assert [r.facts.complaint_id for r in await store.search(CaseFilter(), window)] == [
        CID,
        cid_n(3),
    ]


async def test_a_submission_is_kept_once_and_read_back_with_the_case(adapters: Adapters) -> None:
    store = adapters.cases()
    await store.insert_new([record()])
    first = Submission("d1", RECEIVED)
    assert await store.record_submission(CID, "a.1$", first) is None
    assert await store.record_submission(CID, "a.1$", Submission("d2", RECEIVED)) == first
    assert await store.record_submission(CID, "b-1", Submission("d3", RECEIVED)) is None
    stored = await store.load(CID)
    assert stored is not None
    assert stored.submissions == {"a.1$": first, "b-1": Submission("d3", RECEIVED)}
    assert await store.record_submission(cid_n(9), "a-1", first) is None  # no case: nothing kept
    assert await store.load(cid_n(9)) is None


@pytest.mark.stack
async def test_what_the_sla_stores_is_what_its_read_models_declare() -> None:
    """The owner's side of CASE_SHEETS and CASE_FACTS (ADR 0008), after a change too."""
    async with fresh_database(mongo_server(), "sla_read_models") as db:
        store = MongoCaseStore(db)
        await store.insert_new([record()])
        stored = await store.load(CID)
        assert stored is not None
        assert await store.commit(stored, change(stored, "dispatch"))
        (sheet,) = await read(db, CASE_SHEETS)
        (facts,) = await read(db, CASE_FACTS)
    assert (sheet.id, sheet.state) == (CID, CaseState.DISPATCHED)
    assert [(c.key, c.status, c.stopped_at) for c in sheet.clocks] == [
        (clock_entry().key, "met", RECEIVED)
    ]
    assert (facts.channel, facts.severity, facts.received_at) == (
        Channel.HOTLINE,
        Severity.P4,
        RECEIVED,
    )


async def test_a_due_list_walks_the_next_due_in_order_from_its_keyset_to_its_bound(
    adapters: Adapters,
) -> None:
    # Next due times out of receipt order, repeated (ties by id), some cases with no running
    # clock; a change moves one case's next due: the walk follows what the sheet says now.
    store = adapters.cases()
    cases = []
    for n in range(30):
        at = RECEIVED + timedelta(seconds=n)
        facts = replace(record().facts, complaint_id=cid_n(200 + (n * 11) % 30), received_at=at)
        clocks = () if n % 7 == 0 else (clock_entry(minutes=10 * ((n * 13) % 9)),)
        cases.append(record(facts.complaint_id, facts=facts, clocks=clocks))
    await store.insert_new(cases)
    moved = await store.load(cid_n(201))
    assert moved is not None
    assert moved.clocks
    sooner = (replace(moved.clocks[0], due_at=RECEIVED + timedelta(minutes=5)),)
    assert await store.commit(moved, CaseChange(moved.case, sooner, LogEntry("m-1", RECEIVED, ())))
    dues = {c.complaint_id: c.clocks[0].due_at for c in cases if c.clocks}
    dues[cid_n(201)] = sooner[0].due_at
    bound = RECEIVED + timedelta(minutes=50)
    for first in (CasePaging(due_by=bound, limit=4), CasePaging(due_between=(RECEIVED, bound))):
        low = RECEIVED if first.due_between else RECEIVED - timedelta(1)
        wanted = sorted((at, cid) for cid, at in dues.items() if low < at <= bound)
        walked: list[tuple[object, str]] = []
        paging = first
        while batch := await store.search(CaseFilter(), paging):
            walked += [(r.next_due, r.facts.complaint_id) for r in batch]
            paging = replace(paging, after=batch[-1].list_key(paging))
        assert walked == wanted, first
    at_receipt = await store.search(CaseFilter(category="billing/x"), CasePaging(due_by=RECEIVED))
    wanted_ids = sorted(cid for cid, at in dues.items() if at == RECEIVED)
    assert wanted_ids  # clocks of 0 minutes: due at receipt (a bound is inclusive)
    assert [r.facts.complaint_id for r in at_receipt] == wanted_ids


async def test_the_review_queue_lists_the_cases_whose_complainant_was_flagged(
    adapters: Adapters,
) -> None:
    store = adapters.cases()
    await store.insert_new([record(cid_n(n)) for n in range(1, 6)])
    for n in (4, 2):
        stored = await store.load(cid_n(n))
        assert stored is not None
        flagged = change(stored, f"c-{n}", review_reason="malicious verdict")
        assert await store.commit(stored, flagged)
    queue = await store.search(CaseFilter(review=True))
    assert [r.facts.complaint_id for r in queue] == [cid_n(2), cid_n(4)]
    assert all(r.review for r in queue)
    assert len(await store.search(CaseFilter(review=None))) == 5
    reloaded = await store.load(cid_n(4))
    assert reloaded is not None
    assert reloaded.review_reason == "malicious verdict"
    page = await store.search(CaseFilter(review=True), CasePaging(limit=1))
    rest = CasePaging(after=page[-1].list_key(CasePaging()))
    assert [r.facts.complaint_id for r in await store.search(CaseFilter(review=True), rest)] == [
        cid_n(4)
    ]
