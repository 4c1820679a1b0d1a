"""Handler-level tests of the SLA service: `ClockKeeper` and the lease-based `Scheduler`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from contracts import (
    Audience,
    Channel,
    ClassifiedComplaint,
    ClockName,
    ComplaintClassified,
    DeliveryStatus,
    Event,
    Kind,
    NotificationReceipt,
    NotificationSent,
    Severity,
    SlaChanged,
    SlaEventKind,
    Topic,
)
from servicekit.clock import FakeClock
from servicekit.delivery import Inbound
from sla.adapters.memory import InMemoryCaseStore, InMemoryDeadlineStore
from sla.cases import CaseKeeper
from sla.domain import BusinessCalendar, SlaPolicy, deadlines_at_receipt
from sla.metrics import SlaMetrics
from sla.ports import StoredDeadline, Threshold
from sla.scheduler import Scheduler
from sla.service import ClockKeeper
from tests.support import E, FlakyPublisher

POLICIES = Path(__file__).resolve().parents[2] / "policies"
POLICY = SlaPolicy.load(policy_dir=POLICIES)
CALENDAR = BusinessCalendar.load(policy_dir=POLICIES)
# Tuesday 24 November 2026, 09:30 in Shanghai: a working-day morning.
RECEIVED = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
CID = "CP20261124-0000000001"


class Publisher(FlakyPublisher[Event]):
    """Collects what the service publishes; `sla` are the clock events, `kinds()` their kinds."""

    def __init__(self) -> None:
        super().__init__(Event)

    @property
    def sla(self) -> list[SlaChanged]:
        return [e for e in self.events if isinstance(e, SlaChanged)]

    def of(self, event_type: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, event_type)]

    def kinds(self) -> list[SlaEventKind]:
        return [e.data.event for e in self.sla]


class Rig:
    """A clock keeper and its memory stores."""

    def __init__(self) -> None:
        self.deadlines = InMemoryDeadlineStore()
        self.cases = InMemoryCaseStore()
        self.publisher = Publisher()
        self.clock = FakeClock(RECEIVED + timedelta(seconds=5))
        self.registry = CollectorRegistry()
        self.metrics = SlaMetrics(self.registry)
        self.wakes = 0
        self.keeper = ClockKeeper(
            policy=POLICY,
            calendar=CALENDAR,
            deadlines=self.deadlines,
            cases=self.cases,
            publish=self.publisher,
            clock=self.clock,
            metrics=self.metrics,
            wake=self._wake,
        )
        self.case_keeper = CaseKeeper(
            policy=POLICY,
            calendar=CALENDAR,
            deadlines=self.deadlines,
            cases=self.cases,
            publish=self.publisher,
            clock=self.clock,
            metrics=self.metrics,
            wake=self._wake,
        )
        self._offset = 0

    def _wake(self) -> None:
        self.wakes += 1

    def inbound(self, value: bytes, topic: Topic = Topic.CLASSIFIED) -> Inbound:
        self._offset += 1
        return Inbound(topic.value, 0, self._offset, CID.encode(), value, 0)

    async def classified(self, *events: ComplaintClassified) -> None:
        rejections = await self.keeper.on_classified(
            [self.inbound(e.model_dump_json().encode()) for e in events]
        )
        assert rejections == []

    def scheduler(self, owner: str, store: InMemoryDeadlineStore | None = None) -> Scheduler:
        return Scheduler(
            store=store or self.deadlines,
            publish=self.publisher,
            clock=self.clock,
            metrics=self.metrics,
            owner=owner,
            lease=timedelta(seconds=30),
        )


def classified(
    *,
    cid: str = CID,
    kind: Kind = Kind.COMPLAINT,
    severity: Severity | None = Severity.P4,
    duplicate_of: str | None = None,
    complainant_key: str | None = None,
) -> ComplaintClassified:
    """A classifier decision received at RECEIVED."""
    data = ClassifiedComplaint(
        complaint_id=cid,
        complainant_key=complainant_key,
        channel=Channel.HOTLINE,
        received_at=RECEIVED,
        kind=kind,
        category="billing/overcharge" if kind is Kind.COMPLAINT else None,
        severity=severity if kind is Kind.COMPLAINT else None,
        confidence=0.9,
        model_version="test",
        policy="telecom",
        policy_version="test",
        duplicate_of=duplicate_of,
    )
    return ComplaintClassified.build(
        data=data, subject=cid, source="/complaints/classifier", time=RECEIVED, cause=cid
    )


def receipt(
    *,
    audience: Audience = Audience.CUSTOMER,
    template: str = "acknowledgement",
    status: DeliveryStatus = DeliveryStatus.DELIVERED,
) -> NotificationSent:
    """A notifier receipt for CID."""
    key = f"{CID}:ack:-:-:{audience.value}"
    data = NotificationReceipt(
        notification_id=key,
        complaint_id=CID,
        audience=audience,
        channel="sms",
        template=template,
        status=status,
        attempts=1,
    )
    return NotificationSent.build(
        data=data, subject=CID, source="/complaints/notifier", time=RECEIVED, cause=key
    )


def deadline(
    deadline_id: str = f"{CID}:acknowledge:1",
    *,
    percents: Sequence[int] = (50, 100),
    minutes: int = 60,
) -> StoredDeadline:
    """A hand-made acknowledge deadline started at RECEIVED."""
    due = RECEIVED + timedelta(minutes=minutes)
    return StoredDeadline(
        deadline_id=deadline_id,
        complaint_id=CID,
        clock=ClockName.ACKNOWLEDGE,
        occurrence=1,
        severity="P4",
        started_at=RECEIVED,
        due_at=due,
        thresholds=tuple(
            Threshold(p, RECEIVED + timedelta(minutes=minutes * p / 100), (Audience.HANDLER,))
            for p in percents
        ),
        policy_version="test",
        calendar_version="test",
    )


# --- clocks at classification -------------------------------------------------------------


async def test_p4_complaint_stores_deadlines_matching_the_domain(rig: Rig) -> None:
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
    by_clock = {
        s.deadline.clock: s.deadline for s in rig.deadlines.slots.values() if s.deadline.clock
    }
    assert {ClockName.ACKNOWLEDGE, ClockName.RESOLUTION} <= set(by_clock)
    assert set(by_clock) == {d.clock for d in expected}
    for domain_deadline in expected:
        mine = by_clock[domain_deadline.clock]
        assert mine.due_at == domain_deadline.due_at
        assert {t.percent: t.at for t in mine.thresholds} == domain_deadline.thresholds
        assert mine.deadline_id == f"{CID}:{domain_deadline.clock.value}:1"
    # Acknowledge P4 is one natural hour; resolution 3 working days ends Friday 18:00 local.
    assert by_clock[ClockName.ACKNOWLEDGE].due_at == RECEIVED + timedelta(hours=1)
    assert by_clock[ClockName.RESOLUTION].due_at == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    assert rig.cases.state(CID) == "classified"
    assert rig.wakes == 1


async def test_p4_complaint_publishes_one_set_event_listing_the_clocks(rig: Rig) -> None:
    await rig.classified(classified())
    [event] = rig.publisher.events
    assert event.subject == CID
    assert event.data.event is SlaEventKind.SET
    assert event.data.severity is Severity.P4
    views = {v.clock: v for v in event.data.deadlines}
    stored = {s.deadline.clock: s.deadline for s in rig.deadlines.slots.values()}
    assert set(views) == {c for c in stored if c is not None}
    assert views[ClockName.ACKNOWLEDGE].due_at == RECEIVED + timedelta(hours=1)
    assert views[ClockName.ACKNOWLEDGE].due_at_local == "2026-11-24 10:30"
    assert views[ClockName.RESOLUTION].due_at_local == "2026-11-27 18:00"
    assert event.data.policy_version == POLICY.version
    labels = {"clock": "acknowledge", "severity": "P4"}
    assert rig.registry.get_sample_value("complaints_deadlines_set_total", labels) == 1


async def test_redelivered_classification_sets_nothing_twice(rig: Rig) -> None:
    await rig.classified(classified())
    slots = dict(rig.deadlines.slots)
    rig.clock.advance(timedelta(minutes=3))
    await rig.classified(classified(), classified())
    assert len(rig.publisher.events) == 1
    assert rig.deadlines.slots == slots


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
    assert rig.deadlines.slots == {}
    assert rig.publisher.events == []
    assert rig.cases.state(CID) == state
    assert rig.wakes == 0


async def test_invalid_classified_event_is_rejected(rig: Rig) -> None:
    bad = rig.inbound(b'{"type": "cn.complaints.classified.v1"}')
    rejections = await rig.keeper.on_classified([bad])
    assert [(r.reason, r.message) for r in rejections] == [("invalid_event", bad)]
    assert rig.publisher.events == []


# --- the scheduler --------------------------------------------------------------------------


async def test_scheduler_fires_warning_then_breach_exactly_once(rig: Rig) -> None:
    await rig.deadlines.add([deadline()])
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
    assert rig.deadlines.slots[f"{CID}:acknowledge:1"].status == "pending"  # open until met
    assert await rig.deadlines.next_due_at() is None


async def test_scheduler_catches_up_missed_thresholds_in_order(rig: Rig) -> None:
    await rig.deadlines.add([deadline(percents=(50, 80, 100, 150))])
    scheduler = rig.scheduler("a")
    rig.clock.set(RECEIVED + timedelta(hours=5))
    fired = [await scheduler.run_once() for _ in range(6)]
    assert fired == [1, 1, 1, 1, 0, 0]
    assert [e.data.threshold for e in rig.publisher.events] == [50, 80, 100, 150]
    assert len({e.id for e in rig.publisher.events}) == 4


async def test_two_owners_sharing_a_store_never_fire_a_threshold_twice(rig: Rig) -> None:
    await rig.deadlines.add([deadline(f"{CID}:acknowledge:{n}") for n in range(1, 6)])
    first, second = rig.scheduler("a"), rig.scheduler("b")
    for minutes in (0, 30, 30, 45, 60, 60, 90, 120):
        rig.clock.set(RECEIVED + timedelta(minutes=minutes))
        await first.run_once()
        await second.run_once()
    fired = [(e.data.occurrence, e.subject, e.id) for e in rig.publisher.events]
    assert len(fired) == 10  # five deadlines × (50 %, 100 %)
    assert len({e.id for e in rig.publisher.events}) == 10


async def test_claimed_deadline_is_not_fired_by_another_owner_within_the_lease(rig: Rig) -> None:
    await rig.deadlines.add([deadline()])
    rig.clock.set(RECEIVED + timedelta(minutes=30))
    claimed = await rig.deadlines.claim_due(
        now=rig.clock.now(),
        owner="slow",
        lease_until=rig.clock.now() + timedelta(seconds=30),
        limit=10,
    )
    assert len(claimed) == 1
    assert await rig.scheduler("b").run_once() == 0


async def test_expired_lease_of_a_dead_owner_is_taken_over(rig: Rig) -> None:
    await rig.deadlines.add([deadline()])
    rig.clock.set(RECEIVED + timedelta(minutes=30))
    lease_until = rig.clock.now() + timedelta(seconds=30)
    [taken] = await rig.deadlines.claim_due(
        now=rig.clock.now(), owner="dead", lease_until=lease_until, limit=10
    )
    survivor = rig.scheduler("alive")
    rig.clock.advance(timedelta(seconds=29))
    assert await survivor.run_once() == 0
    rig.clock.set(lease_until)
    assert await survivor.run_once() == 1
    [warned] = rig.publisher.events
    assert warned.data.threshold == 50
    # The dead owner waking up late cannot record anything any more.
    await rig.deadlines.fired(taken, percent=50, owner="dead")
    assert rig.deadlines.slots[taken.deadline_id].deadline.fired == (50,)
    rig.clock.set(RECEIVED + timedelta(minutes=60))
    assert await survivor.run_once() == 1
    assert [e.data.threshold for e in rig.publisher.events] == [50, 100]


async def test_failed_publish_leaves_the_threshold_to_the_next_owner(rig: Rig) -> None:
    await rig.deadlines.add([deadline()])
    rig.clock.set(RECEIVED + timedelta(minutes=30))
    rig.publisher.failures = 1
    with pytest.raises(TimeoutError):
        await rig.scheduler("a").run_once()
    assert await rig.scheduler("b").run_once() == 0
    rig.clock.advance(timedelta(seconds=30))
    assert await rig.scheduler("b").run_once() == 1
    assert [e.data.threshold for e in rig.publisher.events] == [50]


async def test_keeper_and_scheduler_warn_at_half_the_acknowledge_hour(rig: Rig) -> None:
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


async def on_receipts(rig: Rig, *events: NotificationSent) -> None:
    messages = [rig.inbound(e.model_dump_json().encode(), Topic.NOTIFICATION_SENT) for e in events]
    assert await rig.case_keeper.on_receipts(messages) == []


async def test_delivered_acknowledgement_meets_the_clock_and_publishes_met(rig: Rig) -> None:
    await rig.classified(classified())
    rig.publisher.events.clear()
    rig.clock.set(RECEIVED + timedelta(minutes=10))
    await on_receipts(rig, receipt())
    [met] = rig.publisher.sla
    assert met.data.event is SlaEventKind.MET
    assert met.data.clock is ClockName.ACKNOWLEDGE
    assert met.data.due_at == RECEIVED + timedelta(hours=1)
    assert rig.deadlines.slots[f"{CID}:acknowledge:1"].status == "met"
    labels = {"clock": "acknowledge", "outcome": "on_time"}
    assert rig.registry.get_sample_value("complaints_deadlines_met_total", labels) == 1
    # The stopped clock never warns; other clocks still run.
    scheduler = rig.scheduler("a")
    rig.clock.set(RECEIVED + timedelta(minutes=45))
    assert await scheduler.run_once() == 0
    rig.clock.set(RECEIVED + timedelta(hours=2, minutes=1))
    assert await scheduler.run_once() == 1  # first contact starts only at dispatch
    assert {e.data.clock for e in rig.publisher.sla[1:]} == {ClockName.DISPATCH}


async def test_redelivered_receipt_publishes_met_once(rig: Rig) -> None:
    await rig.classified(classified())
    rig.publisher.events.clear()
    await on_receipts(rig, receipt(), receipt())
    await on_receipts(rig, receipt())
    assert rig.publisher.kinds() == [SlaEventKind.MET]


@pytest.mark.parametrize(
    "ignored",
    [
        receipt(audience=Audience.HANDLER),
        receipt(status=DeliveryStatus.FAILED),
        receipt(template="staff_warned"),
    ],
)
async def test_other_receipts_leave_the_clock_running(rig: Rig, ignored: NotificationSent) -> None:
    await rig.classified(classified())
    rig.publisher.events.clear()
    await on_receipts(rig, ignored)
    assert rig.publisher.events == []
    assert rig.deadlines.slots[f"{CID}:acknowledge:1"].status == "pending"


async def test_met_event_survives_a_failed_publish(rig: Rig) -> None:
    await rig.classified(classified())
    rig.publisher.events.clear()
    rig.publisher.failures = 1
    with pytest.raises(TimeoutError):
        await on_receipts(rig, receipt())
    await on_receipts(rig, receipt())
    assert rig.publisher.kinds() == [SlaEventKind.MET]


async def test_deadlines_on_the_fallback_calendar_are_counted(rig: Rig) -> None:
    event = classified()
    data = event.data.model_copy(update={"received_at": datetime(2031, 3, 3, 1, 30, tzinfo=UTC)})
    await rig.classified(event.model_copy(update={"data": data}))
    counted = rig.registry.get_sample_value("complaints_calendar_fallback_total", {"year": "2031"})
    assert counted is not None
    assert counted >= 1


async def test_the_case_keeps_the_category_for_queries(rig: Rig) -> None:
    await rig.classified(classified())
    assert rig.cases.records[CID].facts.category == "billing/overcharge"
