"""Handler-level tests of the SLA service: `StartClocks`, `RecordReceipt` and the `Scheduler`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from contracts import (
    Audience,
    Channel,
    ClockName,
    ClockStatus,
    ComplaintClassified,
    DeliveryStatus,
    Kind,
    NotificationSent,
    Severity,
    SlaEventKind,
)
from servicekit.bodies import deliver
from sla.domain import deadlines_at_receipt
from sla.handlers import CLASSIFIED
from sla.ports import CaseRecord
from tests._builders.sla import (
    CALENDAR,
    CID,
    POLICY,
    RECEIVED,
    Rig,
    cid_n,
    classified,
    clock_entry,
    on_receipts,
    receipt,
)

# --- clocks at classification -------------------------------------------------------------


async def test_p4_complaint_stores_one_case_whose_sheet_matches_the_domain(rig: Rig) -> None:
    await rig.classified(classified())
    expected = deadlines_at_receipt(
        received_at=RECEIVED,
        severity=Severity.P4,
        channel=Channel.HOTLINE,
        referral_due_at=None,
        flags=[],
        policy=POLICY,
        calendar=CALENDAR,
    )
    record = await rig.record()
    by_clock = {c.clock: c for c in record.clocks if c.clock}
    assert {ClockName.ACKNOWLEDGE, ClockName.RESOLUTION} <= set(by_clock)
    assert set(by_clock) == {d.clock for d in expected}
    for domain_deadline in expected:
        mine = by_clock[domain_deadline.clock]
        assert mine.due_at == domain_deadline.due_at
        assert {t.percent: t.at for t in mine.thresholds} == domain_deadline.thresholds
        assert mine.deadline_id(CID) == f"{CID}:{domain_deadline.clock.value}:1"
        assert mine.status is ClockStatus.RUNNING
    # Acknowledge P4 is one natural hour; resolution 3 working days ends Friday 18:00 local.
    assert by_clock[ClockName.ACKNOWLEDGE].due_at == RECEIVED + timedelta(hours=1)
    assert by_clock[ClockName.RESOLUTION].due_at == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    assert rig.memory.state(CID) == "classified"
    assert record.version == 0
    assert rig.wakes == 1
    # One due-index entry: the sheet's earliest threshold (acknowledge at 50 %).
    assert rig.index.entries == [  # type: ignore[attr-defined]
        (f"{CID}:acknowledge:1", RECEIVED + timedelta(minutes=30), 50)
    ]


async def test_p4_complaint_publishes_one_set_event_listing_the_clocks(rig: Rig) -> None:
    await rig.classified(classified())
    [event] = rig.publisher.events
    assert event.subject == CID
    assert event.data.event is SlaEventKind.SET
    assert event.data.severity is Severity.P4
    views = {v.clock: v for v in event.data.deadlines}
    stored = {c.clock for c in (await rig.record()).clocks}
    assert set(views) == {c for c in stored if c is not None}
    assert views[ClockName.ACKNOWLEDGE].due_at == RECEIVED + timedelta(hours=1)
    assert views[ClockName.ACKNOWLEDGE].due_at_local == "2026-11-24 10:30"
    assert views[ClockName.RESOLUTION].due_at_local == "2026-11-27 18:00"
    assert event.data.policy_version == POLICY.version
    labels = {"clock": "acknowledge", "severity": "P4"}
    assert rig.registry.get_sample_value("complaints_deadlines_set_total", labels) == 1


async def test_redelivered_classification_republishes_the_stored_event_and_stores_nothing(
    rig: Rig,
) -> None:
    await rig.classified(classified())
    before = await rig.record()
    rig.clock.advance(timedelta(minutes=3))
    await rig.classified(classified(), classified())
    first, *again = rig.publisher.events
    assert again
    assert all(e == first for e in again)  # same event, same id: consumers dedupe
    assert await rig.record() == before


async def test_failed_set_publish_is_repeated_on_redelivery(rig: Rig) -> None:
    rig.publisher.failures = 1
    with pytest.raises(TimeoutError):
        await rig.classified(classified())
    await rig.classified(classified())
    [event] = rig.publisher.events
    assert event.data.event is SlaEventKind.SET


@pytest.mark.parametrize(
    ("event", "state"),
    [
        (classified(kind=Kind.ENQUIRY), "enquiry"),
        (classified(kind=Kind.OUT_OF_SCOPE), "routed"),
        (classified(duplicate_of="CP20261123-0000000009"), "duplicate"),
    ],
)
async def test_side_states_get_no_clocks_and_no_event(
    rig: Rig, event: ComplaintClassified, state: str
) -> None:
    await rig.classified(event)
    assert (await rig.record()).clocks == ()
    assert rig.publisher.events == []
    assert rig.memory.state(CID) == state
    assert rig.wakes == 0


async def test_invalid_classified_event_is_rejected(rig: Rig) -> None:
    bad = rig.inbound(b'{"type": "cn.complaints.classified.v1"}')
    rejections = await deliver(CLASSIFIED, rig.start.on_classified, [bad])
    assert [(r.reason, r.message) for r in rejections] == [("invalid_event", bad)]
    assert rig.publisher.events == []


# --- the scheduler --------------------------------------------------------------------------


async def test_scheduler_fires_warning_then_breach_exactly_once(rig: Rig) -> None:
    await rig.seed((CID, [clock_entry()]))
    scheduler = rig.scheduler("a")
    assert await scheduler.run_once() == 0
    rig.clock.set(RECEIVED + timedelta(minutes=29))
    assert await scheduler.run_once() == 0
    rig.clock.set(RECEIVED + timedelta(minutes=30))
    assert await scheduler.run_once() == 1
    assert await scheduler.run_once() == 0
    [warned] = rig.publisher.events
    assert (warned.data.event, warned.data.threshold) == (SlaEventKind.WARNED, 50)
    assert warned.data.clock is ClockName.ACKNOWLEDGE
    assert warned.data.audiences == [Audience.HANDLER]
    rig.clock.set(RECEIVED + timedelta(minutes=61))
    assert await scheduler.run_once() == 1
    assert await scheduler.run_once() == 0
    rig.clock.advance(timedelta(days=30))
    assert await scheduler.run_once() == 0
    assert [(e.data.event, e.data.threshold) for e in rig.publisher.events] == [
        (SlaEventKind.WARNED, 50),
        (SlaEventKind.BREACHED, 100),
    ]
    entry = await rig.entry("acknowledge:1")
    assert entry.status is ClockStatus.RUNNING  # open until met
    assert entry.passed == (50, 100)
    record = await rig.record()
    assert record.unpublished == ()  # both firings were marked published
    assert [len(e.events) for e in record.log] == [1, 1]
    assert rig.index.upcoming() is None


async def test_scheduler_catches_up_missed_thresholds_in_one_write(rig: Rig) -> None:
    await rig.seed((CID, [clock_entry(percents=(50, 80, 100, 150))]))
    scheduler = rig.scheduler("a")
    rig.clock.set(RECEIVED + timedelta(hours=5))
    assert [await scheduler.run_once() for _ in range(3)] == [4, 0, 0]
    assert [e.data.threshold for e in rig.publisher.events] == [50, 80, 100, 150]
    assert len({e.id for e in rig.publisher.events}) == 4
    assert rig.memory.writes == 1  # one compare-and-set fired all four


async def test_two_owners_sharing_a_store_never_fire_a_threshold_twice(rig: Rig) -> None:
    await rig.seed(*((cid_n(n), [clock_entry()]) for n in range(1, 6)))
    first, second = rig.scheduler("a"), rig.scheduler("b")
    for minutes in (0, 30, 30, 45, 60, 60, 90, 120):
        rig.clock.set(RECEIVED + timedelta(minutes=minutes))
        await first.run_once()
        await second.run_once()
    assert len(rig.publisher.events) == 10  # five clocks × (50 %, 100 %)
    assert len({e.id for e in rig.publisher.events}) == 10


async def test_a_lost_compare_and_set_fires_nothing(rig: Rig) -> None:
    await rig.seed((CID, [clock_entry()]))
    rig.clock.set(RECEIVED + timedelta(minutes=30))
    real_commit = rig.memory.commit

    async def racing_commit(record: CaseRecord, change: object) -> bool:
        # A staff action lands between the scheduler's read and its compare-and-set.
        stored = rig.memory.records[record.complaint_id]
        rig.memory.records[record.complaint_id] = type(stored)(
            **{**stored.__dict__, "version": stored.version + 1}
        )
        return await real_commit(record, change)  # type: ignore[arg-type]

    rig.memory.commit = racing_commit  # type: ignore[method-assign]
    assert await rig.scheduler("a").run_once() == 0
    assert rig.publisher.events == []
    rig.memory.commit = real_commit  # type: ignore[method-assign]
    assert await rig.scheduler("a").run_once() == 1  # the entry stayed unsettled: retried
    assert [e.data.threshold for e in rig.publisher.events] == [50]


async def test_a_replica_killed_after_its_write_is_republished_once_its_beat_is_stale(
    rig: Rig,
) -> None:
    await rig.seed((CID, [clock_entry()]))
    rig.clock.set(RECEIVED + timedelta(minutes=30))
    await rig.liveness.beat("dead", now=rig.clock.now())
    rig.publisher.failures = 1  # "killed" between the compare-and-set and the publish
    with pytest.raises(TimeoutError):
        await rig.scheduler("dead").run_once()
    stored = await rig.record()
    assert stored.unpublished != ()
    survivor = rig.scheduler("alive")
    rig.clock.advance(timedelta(seconds=0.6))
    assert await survivor.run_once() == 0
    assert rig.publisher.events == []  # the dead replica's last beat is not stale yet
    rig.clock.advance(timedelta(seconds=0.1))
    assert await survivor.run_once() == 0  # republished, not fired again
    [warned] = rig.publisher.events
    assert warned.data.threshold == 50
    assert warned.id == stored.log[-1].events[0].id
    assert (await rig.record()).unpublished == ()
    assert await survivor.run_once() == 0
    rig.clock.set(RECEIVED + timedelta(minutes=60))
    assert await survivor.run_once() == 1
    assert [e.data.threshold for e in rig.publisher.events] == [50, 100]


async def test_a_failed_publish_is_repeated_by_the_same_replica(rig: Rig) -> None:
    await rig.seed((CID, [clock_entry()]))
    rig.clock.set(RECEIVED + timedelta(minutes=30))
    scheduler = rig.scheduler("a")
    rig.publisher.failures = 1
    with pytest.raises(TimeoutError):
        await scheduler.run_once()
    assert await scheduler.run_once() == 0
    assert [e.data.threshold for e in rig.publisher.events] == [50]
    assert await scheduler.run_once() == 0
    assert len(rig.publisher.events) == 1


async def test_start_and_scheduler_warn_at_half_the_acknowledge_hour(rig: Rig) -> None:
    await rig.classified(classified())
    rig.publisher.events.clear()
    scheduler = rig.scheduler("a")
    rig.clock.set(RECEIVED + timedelta(minutes=29, seconds=59))
    assert await scheduler.run_once() == 0
    rig.clock.set(RECEIVED + timedelta(minutes=30))
    assert await scheduler.run_once() == 1
    [warned] = rig.publisher.events
    assert (warned.data.clock, warned.data.threshold) == (ClockName.ACKNOWLEDGE, 50)
    assert warned.data.event is SlaEventKind.WARNED


# --- receipts stop the acknowledge clock ----------------------------------------------------


async def test_delivered_acknowledgement_meets_the_clock_in_one_write(rig: Rig) -> None:
    await rig.classified(classified())
    rig.publisher.events.clear()
    rig.clock.set(RECEIVED + timedelta(minutes=10))
    await on_receipts(rig, receipt())
    assert rig.publisher.events == []  # nobody consumes it: nothing is published
    assert rig.memory.writes == 1
    record = await rig.record()
    assert record.case.acknowledged
    assert record.case.state == "acknowledged"
    [row] = record.case.history
    assert (row.action_id, row.actor) == (f"receipt:{CID}:ack:-:-:customer", "notifier")
    ack = await rig.entry("acknowledge:1")
    assert (ack.status, ack.stopped_at) == (ClockStatus.MET, RECEIVED)
    labels = {"clock": "acknowledge", "outcome": "on_time"}
    assert rig.registry.get_sample_value("complaints_deadlines_met_total", labels) == 1
    # The stopped clock never warns; other clocks still run.
    scheduler = rig.scheduler("a")
    rig.clock.set(RECEIVED + timedelta(minutes=45))
    assert await scheduler.run_once() == 0
    rig.clock.set(RECEIVED + timedelta(hours=2, minutes=1))
    assert await scheduler.run_once() == 1  # first contact starts only at dispatch
    assert {e.data.clock for e in rig.publisher.sla} == {ClockName.DISPATCH}


async def test_redelivered_receipt_changes_the_case_once(rig: Rig) -> None:
    await rig.classified(classified())
    await on_receipts(rig, receipt(), receipt())
    once = await rig.record()
    await on_receipts(rig, receipt())
    assert await rig.record() == once
    assert once.version == 1


@pytest.mark.parametrize(
    "ignored",
    [
        receipt(audience=Audience.HANDLER),
        receipt(status=DeliveryStatus.FAILED),
        receipt(template="staff_warned", acknowledgement=False),
        # What a receipt is for is its typed field, not its template's name.
        receipt(template="acknowledgement_v2", acknowledgement=False),
    ],
)
async def test_other_receipts_leave_the_clock_running(rig: Rig, ignored: NotificationSent) -> None:
    await rig.classified(classified())
    rig.publisher.events.clear()
    await on_receipts(rig, ignored)
    assert rig.publisher.events == []
    assert (await rig.entry("acknowledge:1")).status is ClockStatus.RUNNING
    assert (await rig.record()).version == 0  # nothing written: the notifier keeps receipts


async def test_deadlines_on_the_fallback_calendar_are_counted(rig: Rig) -> None:
    event = classified()
    data = event.data.model_copy(update={"received_at": datetime(2031, 3, 3, 1, 30, tzinfo=UTC)})
    await rig.classified(event.model_copy(update={"data": data}))
    counted = rig.registry.get_sample_value("complaints_calendar_fallback_total", {"year": "2031"})
    assert counted is not None
    assert counted >= 1


async def test_the_case_keeps_the_category_for_queries(rig: Rig) -> None:
    await rig.classified(classified())
    assert rig.memory.records[CID].facts.category == "billing/overcharge"
