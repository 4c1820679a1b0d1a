"""Messages that wait: quiet hours, staff digests, rate limits, the dispatcher, replicas."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest

from contracts import (
    Audience,
    ClockName,
    DeliveryStatus,
    Event,
    Kind,
    LifecycleAction,
    NotificationSent,
    Severity,
    SlaChanged,
    SlaEventKind,
)
from notifier.adapters.memory import InMemoryNotificationLog
from notifier.domain import Delivery, Recipient
from notifier.ports import Claims, Outcome
from servicekit.clock import FakeClock
from tests._builders.doubles import FlakyPublisher
from tests.notifier.rig import (
    CID,
    CID2,
    MORNING,
    NIGHT,
    PHONE,
    FailingCompleteLog,
    Rig,
    ack_intent,
    classified,
    pack_policy,
    sla_alert,
    sla_set,
    state_changed,
)


async def test_customer_sms_in_quiet_hours_is_deferred_then_sent_once_in_the_morning() -> None:
    rig = Rig(clock=FakeClock(NIGHT))
    breach = sla_alert(
        SlaEventKind.BREACHED, clock=ClockName.RESOLUTION, audiences=[Audience.CUSTOMER], at=NIGHT
    )
    await rig.on_sla(breach)
    assert rig.sms.sent == []
    [deferred] = rig.receipts
    assert deferred.data.status is DeliveryStatus.DEFERRED
    assert deferred.data.deliver_after == MORNING
    assert deferred.data.reason == "quiet_hours"
    assert (
        rig.metric(
            "complaints_notifications_total", channel="sms", audience="customer", status="deferred"
        )
        == 1
    )

    rig.clock.set(MORNING - timedelta(minutes=1))
    assert await rig.dispatcher.run_once() == 0
    await rig.on_sla(breach)  # redelivered at night: still waiting, not sent
    assert rig.sms.sent == []

    rig.clock.set(MORNING)
    assert await rig.dispatcher.run_once() == 1
    [notice] = rig.sms.sent
    assert notice.template == "customer_delay"
    assert [r.data.status for r in rig.receipts] == [
        DeliveryStatus.DEFERRED,
        DeliveryStatus.DELIVERED,
    ]
    assert rig.receipts[0].id != rig.receipts[1].id
    assert rig.receipts[1].data.latency_ms == (MORNING - NIGHT).total_seconds() * 1000

    await rig.on_sla(breach)
    assert await rig.dispatcher.run_once() == 0
    assert len(rig.sms.sent) == 1


async def test_p1_customer_sms_is_not_held_by_quiet_hours() -> None:
    rig = Rig(clock=FakeClock(NIGHT))
    breach = sla_alert(
        SlaEventKind.BREACHED,
        clock=ClockName.RESOLUTION,
        audiences=[Audience.CUSTOMER],
        severity=Severity.P1,
        at=NIGHT,
    )
    await rig.on_sla(breach)
    assert [m.template for m in rig.sms.sent] == ["customer_delay"]


async def test_acknowledgement_at_night_is_sent_at_once() -> None:
    rig = Rig(clock=FakeClock(NIGHT))
    await rig.on_sla(sla_set(at=NIGHT))
    await rig.on_classified(classified(Kind.ENQUIRY, cid="CP20261124-0000000009"))
    assert [m.template for m in rig.sms.sent] == ["acknowledgement"]  # no phone for the enquiry
    assert rig.receipts[0].data.status is DeliveryStatus.DELIVERED


def night_breach_for_the_customer() -> SlaChanged:
    """A resolution breach at 23:00 that the customer is to be told of."""
    return sla_alert(
        SlaEventKind.BREACHED, clock=ClockName.RESOLUTION, audiences=[Audience.CUSTOMER], at=NIGHT
    )


async def test_quiet_hours_can_be_switched_off_by_the_settings_override() -> None:
    rig = Rig(clock=FakeClock(NIGHT), policy=pack_policy().with_quiet_hours("off"))
    await rig.on_sla(night_breach_for_the_customer())
    assert len(rig.sms.sent) == 1


async def test_a_storm_of_warnings_becomes_one_digest_and_every_warning_gets_a_receipt() -> None:
    rig = Rig()
    warnings = [
        sla_alert(
            SlaEventKind.WARNED,
            cid=f"CP20261124-{i:010d}",
            threshold=50,
            audiences=[Audience.HANDLER],
        )
        for i in range(1, 9)
    ]
    for event in warnings:
        await rig.on_sla(event)
        rig.clock.advance(timedelta(seconds=5))
    assert len(rig.webhook.sent) == 5  # up to the pack's max (5 in 2 minutes) one by one
    held = [r for r in rig.receipts if r.data.status is DeliveryStatus.DEFERRED]
    assert len(held) == 3
    assert {r.data.reason for r in held} == {"digest"}

    rig.clock.advance(timedelta(minutes=2))
    assert await rig.dispatcher.run_once() == 3
    digest = rig.webhook.sent[-1]
    assert len(rig.webhook.sent) == 6
    assert digest.template == "staff_digest"
    assert "3件" in digest.subject
    for event in warnings[5:]:
        assert event.data.complaint_id in digest.body
    delivered = [r for r in rig.receipts if r.data.status is DeliveryStatus.DELIVERED]
    assert len(delivered) == 8
    assert len({r.data.notification_id for r in delivered}) == 8
    assert rig.metric("complaints_notification_digests_total", channel="webhook") == 1


async def test_breaches_are_never_folded_into_a_digest() -> None:
    rig = Rig()
    for i in range(1, 9):
        await rig.on_sla(
            sla_alert(
                SlaEventKind.BREACHED, cid=f"CP20261124-{i:010d}", audiences=[Audience.HANDLER]
            )
        )
    assert len(rig.webhook.sent) == 8
    assert all(m.template == "staff_breached" for m in rig.webhook.sent)


async def test_rate_limited_customer_sms_is_delayed_not_dropped() -> None:
    rig = Rig()
    transitions = [
        state_changed(
            LifecycleAction.DEADLINE_EXTENDED, action_id="x1", clock=ClockName.RESOLUTION
        ),
        state_changed(
            LifecycleAction.DEADLINE_EXTENDED, action_id="x2", clock=ClockName.RESOLUTION
        ),
        state_changed(LifecycleAction.RESOLVED, action_id="r1"),
    ]
    await rig.on_sla(sla_set())
    await rig.on_lifecycle(*transitions)
    assert len(rig.sms.sent) == 3  # the pack's burst for one phone
    [late] = [r for r in rig.receipts if r.data.status is DeliveryStatus.DEFERRED]
    assert late.data.reason == "rate_limited"
    # 0.1 SMS a minute: the next token is ten minutes away.
    assert late.data.deliver_after == rig.clock.now() + timedelta(minutes=10)

    rig.clock.advance(timedelta(minutes=9))
    assert await rig.dispatcher.run_once() == 0
    rig.clock.advance(timedelta(minutes=1))
    assert await rig.dispatcher.run_once() == 1
    assert len(rig.sms.sent) == 4
    assert all(m.address == PHONE for m in rig.sms.sent)


@pytest.mark.parametrize("claimed", [True, False], ids=["claimed first", "sent first"])
async def test_two_notifiers_sharing_one_log_send_each_message_once(claimed: bool) -> None:
    """Claimed first, each message goes once. Sent first (SMS and webhook, ADR 0038), two
    replicas racing on one event may both send it — the same key and text, which the gateway
    drops as a repeat — and it is stored once; the deferred one is sent once either way."""
    log = InMemoryNotificationLog()
    clock = FakeClock(NIGHT)
    publisher = FlakyPublisher(Event)
    first = Rig(log=log, clock=clock, publisher=publisher)
    second = Rig(log=log, clock=clock, publisher=publisher)
    second.sms, second.webhook = first.sms, first.webhook
    second.sender.channels = first.sender.channels
    if claimed:
        first.sender.repeat_safe = second.sender.repeat_safe = frozenset()
    breach = sla_alert(
        SlaEventKind.BREACHED,
        clock=ClockName.RESOLUTION,
        audiences=[Audience.CUSTOMER, Audience.HANDLER, Audience.TEAM_LEAD],
        at=NIGHT,
    )
    ack = sla_set(at=NIGHT)
    await asyncio.gather(first.on_sla(ack, breach), second.on_sla(breach, ack))
    sent = [*first.sms.sent, *first.webhook.sent]
    assert {(m.key, m.template) for m in first.sms.sent} == {
        (f"{CID}:ack:-:-:customer", "acknowledgement")
    }
    assert len({m.key for m in first.webhook.sent}) == 2
    assert len({(m.key, m.body) for m in sent}) == len({m.key for m in sent})  # repeats are copies
    if claimed:
        assert len(sent) == 3
    clock.set(MORNING)
    counts = await asyncio.gather(first.dispatcher.run_once(), second.dispatcher.run_once())
    assert sorted(counts) == [0, 1]
    delay = [m for m in first.sms.sent if m.template == "customer_delay"]
    assert len(delay) == 1
    assert sorted(log.statuses().values()) == ["delivered"] * 4
    keys = [m.key for m in [*first.sms.sent, *first.webhook.sent]]
    assert len(set(keys)) == 4
    if claimed:
        assert len(keys) == 4


async def test_a_claim_abandoned_by_a_crashed_sender_is_sent_by_the_dispatcher() -> None:
    rig = Rig()
    intent = ack_intent(promised="2026-11-27 18:00")
    delivery = Delivery(intent.key, intent, Recipient("customer", "sms", PHONE, "masked"))
    now = rig.clock.now()
    await rig.log.claim([delivery], now=now, lease_until=now + timedelta(minutes=2))
    assert await rig.dispatcher.run_once() == 0  # the sender may still be at work
    rig.clock.advance(timedelta(minutes=2))
    assert await rig.dispatcher.run_once() == 1
    assert [m.key for m in rig.sms.sent] == [intent.key]
    assert [r.data.status for r in rig.receipts] == [DeliveryStatus.DELIVERED]


async def test_the_dispatcher_loop_wakes_for_the_next_due_message() -> None:
    rig = Rig(clock=FakeClock(NIGHT))
    rig.dispatcher.max_sleep = 0.02
    rig.notifier.wake = rig.dispatcher.wake
    task = asyncio.create_task(rig.dispatcher.run_forever())
    try:
        await rig.on_sla(night_breach_for_the_customer())
        await asyncio.sleep(0.05)
        assert rig.sms.sent == []  # still night on the fake clock
        rig.clock.set(MORNING)
        rig.dispatcher.wake()
        for _ in range(100):
            if rig.sms.sent:
                break
            await asyncio.sleep(0.01)
        assert len(rig.sms.sent) == 1
        await asyncio.sleep(0.05)
        assert len(rig.sms.sent) == 1
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_deferred_receipt_lost_to_kafka_is_published_on_redelivery() -> None:
    rig = Rig(clock=FakeClock(NIGHT))
    breach = sla_alert(
        SlaEventKind.BREACHED, clock=ClockName.RESOLUTION, audiences=[Audience.CUSTOMER], at=NIGHT
    )
    rig.publisher.failures = 1
    with pytest.raises(TimeoutError):
        await rig.on_sla(breach)
    await rig.on_sla(breach)
    assert [r.data.status for r in rig.receipts] == [DeliveryStatus.DEFERRED]


@pytest.mark.parametrize("claimed", [True, False], ids=["claimed first", "sent first"])
async def test_a_message_sent_before_the_store_failed_is_recorded_not_resent(claimed: bool) -> None:
    log = FailingCompleteLog()
    rig = Rig(log=log)
    if claimed:
        rig.sender.repeat_safe = frozenset()
    log.failures = 1
    with pytest.raises(TimeoutError):
        await rig.on_sla(sla_set())
    assert len(rig.sms.sent) == 1
    # The claim's lease runs out before the store is back: the dispatcher must not resend
    # (sent first, nothing was stored: there is nothing for it to lease).
    rig.clock.advance(timedelta(minutes=3))
    assert await rig.dispatcher.run_once() == (1 if claimed else 0)
    await rig.on_sla(sla_set())  # the redelivered batch
    assert len(rig.sms.sent) == 1
    assert [r.data.status for r in rig.receipts] == [DeliveryStatus.DELIVERED]
    assert log.statuses() == {f"{CID}:ack:-:-:customer": "delivered"}


class HeldCompleteLog(InMemoryNotificationLog):
    """A log whose first store waits until released (a slow write), counting what is written."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.entered = asyncio.Event()
        self.written: list[str] = []

    async def complete(
        self, outcomes: Sequence[Outcome], *, now: datetime
    ) -> dict[str, Outcome | None]:
        self.written += [o.key for o in outcomes]
        if not self.entered.is_set():
            self.entered.set()
            await self.release.wait()
        return await super().complete(outcomes, now=now)


async def test_overlapping_batches_write_and_publish_each_outcome_once() -> None:
    """The topics' handlers settle concurrently: a batch whose store is still in flight is
    neither written again nor republished by the batch that overlaps it."""
    log = HeldCompleteLog()
    rig = Rig(log=log, phones={CID: PHONE, CID2: "+8613812340002"})
    first = asyncio.create_task(rig.on_sla(sla_set(CID)))
    await log.entered.wait()
    second = asyncio.create_task(rig.on_sla(sla_set(CID2)))
    await asyncio.sleep(0.01)
    log.release.set()
    await asyncio.gather(first, second)
    acks = [f"{CID}:ack:-:-:customer", f"{CID2}:ack:-:-:customer"]
    assert sorted(log.written) == acks
    sent = [e for e in rig.publisher.events if isinstance(e, NotificationSent)]
    assert sorted(e.data.notification_id for e in sent) == acks
    assert log.statuses() == dict.fromkeys(acks, "delivered")


class CountingLog(InMemoryNotificationLog):
    """Counts the dispatcher's separate next-due reads."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def next_due_at(self) -> datetime | None:
        self.reads += 1
        return await super().next_due_at()


async def test_the_dispatcher_naps_on_what_its_round_saw_and_reads_only_after_a_wake() -> None:
    log = CountingLog()
    rig = Rig(log=log, clock=FakeClock(NIGHT))
    breach = sla_alert(
        SlaEventKind.BREACHED, clock=ClockName.RESOLUTION, audiences=[Audience.CUSTOMER], at=NIGHT
    )
    await rig.on_sla(breach)  # deferred to the morning
    assert await rig.dispatcher.run_once() == 0
    assert (await rig.dispatcher.next_due_at(), log.reads) == (MORNING, 0)
    rig.dispatcher.wake()  # a deferral stored meanwhile may come due sooner: read
    assert (await rig.dispatcher.next_due_at(), log.reads) == (MORNING, 1)
    rig.clock.set(MORNING)
    assert await rig.dispatcher.run_once() == 1
    # What the round saw: its own lease's end, in case it had died sending (a nap, no read).
    assert (await rig.dispatcher.next_due_at(), log.reads) == (MORNING + timedelta(minutes=2), 1)


async def test_a_deferral_tells_the_dispatcher_its_time_so_the_nap_needs_no_read() -> None:
    """Each stored deferral wakes the dispatcher with when it comes due: the next nap ends by
    then, with no read of the log and no round before it (a bench batch of rate-limited staff
    messages once cost a round and a read each)."""
    log = CountingLog()
    rig = Rig(log=log, clock=FakeClock(NIGHT))
    rig.notifier.wake = rig.dispatcher.wake
    assert await rig.dispatcher.run_once() == 0
    assert (await rig.dispatcher.next_due_at(), log.reads) == (None, 0)
    await rig.on_sla(
        sla_alert(
            SlaEventKind.BREACHED,
            clock=ClockName.RESOLUTION,
            audiences=[Audience.CUSTOMER],
            at=NIGHT,
        )
    )  # quiet hours: deferred to the morning
    assert (await rig.dispatcher.next_due_at(), log.reads) == (MORNING, 0)
    rig.dispatcher.wake(MORNING + timedelta(hours=1))  # a later one changes nothing
    assert (await rig.dispatcher.next_due_at(), log.reads) == (MORNING, 0)
    rig.clock.set(MORNING)
    assert await rig.dispatcher.run_once() == 1
    assert len(rig.sms.sent) == 1


class WritesLog(InMemoryNotificationLog):
    """Counts what goes through the claim's insert and through `complete`, by key."""

    def __init__(self) -> None:
        super().__init__()
        self.completed: list[str] = []
        self.claimed: list[str] = []

    async def claim(self, deliveries: Sequence[Delivery], **kwargs: Any) -> Claims:
        claims = await super().claim(deliveries, **kwargs)
        self.claimed += [d.key for d in claims.claimed] + [o.key for o in claims.decided]
        return claims

    async def complete(
        self, outcomes: Sequence[Outcome], *, now: datetime
    ) -> dict[str, Outcome | None]:
        self.completed += [o.key for o in outcomes]
        return await super().complete(outcomes, now=now)


async def test_each_delivery_is_one_write_when_sent_at_once_or_rate_limited() -> None:
    """ADR 0038: the acknowledgements and notices go first and are inserted with their
    outcome; the one past the phone's burst is inserted deferred by the claim itself."""
    log = WritesLog()
    rig = Rig(log=log)
    transitions = [
        state_changed(LifecycleAction.DEADLINE_EXTENDED, action_id=a, clock=ClockName.RESOLUTION)
        for a in ("x1", "x2")
    ]
    await rig.on_sla(sla_set())
    await rig.on_lifecycle(*transitions, state_changed(LifecycleAction.RESOLVED, action_id="r1"))
    assert len(rig.sms.sent) == 3
    [late] = [r.data for r in rig.receipts if r.data.status is DeliveryStatus.DEFERRED]
    assert late.reason == "rate_limited"
    sent = {m.key for m in rig.sms.sent}
    assert log.claimed == [late.notification_id]  # decided before the claim: in its insert
    assert sorted(log.completed) == sorted(sent)  # each sent one: one insert with its outcome
    rig.clock.advance(timedelta(minutes=10))
    assert await rig.dispatcher.run_once() == 1  # the deferral: leased, sent, updated
    assert log.completed.count(late.notification_id) == 1
    assert log.statuses() == dict.fromkeys([*sent, late.notification_id], "delivered")
