"""Incidents in the notifier: operations told once per level, each customer one notice."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from contracts import (
    DeliveryStatus,
    Flag,
    FlagName,
    IncidentChange,
    IncidentChanged,
    Kind,
)
from notifier.adapters.memory import InMemoryNotificationLog
from notifier.channels.base import Message
from servicekit.clock import FakeClock
from tests._builders.incidents import incident
from tests.notifier.rig import NOW, FakeChannel, Rig, classified, sla_set

INCIDENT = "network/no_signal|*|20261124T0130+0000"


def cid(n: int) -> str:
    return f"CP20261124-{n:010d}"


def change(
    kind: IncidentChange, members: range, added: range, *, sequence: int, opened_with: int = 20
) -> IncidentChanged:
    ids = [cid(n) for n in members]
    return incident(
        kind,
        ids,
        incident_id=INCIDENT,
        sequence=sequence,
        at=NOW,
        opened_with=opened_with,
        last_seen=NOW + timedelta(minutes=len(ids)),
        added_ids=[cid(n) for n in added],
        resolution="基站电源已恢复" if kind is IncidentChange.CLOSED else None,
    )


def rig_for(count: int) -> Rig:
    return Rig(phones={cid(n): f"+86138{n:08d}" for n in range(1, count + 1)})


def customer_messages(rig: Rig) -> Counter[tuple[str, str]]:
    """(recipient, subject prefix) per customer SMS."""
    return Counter((m.address, m.subject.split(" ")[0]) for m in rig.sms.sent)


async def test_operations_is_told_on_open_at_each_threshold_and_on_close_once_each() -> None:
    rig = rig_for(120)
    events = [
        change(IncidentChange.OPENED, range(1, 21), range(1, 21), sequence=1),
        change(IncidentChange.GROWN, range(1, 31), range(21, 31), sequence=2),  # 1.5×: nothing
        change(IncidentChange.GROWN, range(1, 41), range(31, 41), sequence=3),  # 2×
        change(IncidentChange.GROWN, range(1, 61), range(41, 61), sequence=4),  # 3×: nothing
        change(IncidentChange.GROWN, range(1, 101), range(61, 101), sequence=5),  # 5×
        change(IncidentChange.CLOSED, range(1, 101), range(0), sequence=6),
    ]
    for event in events:
        await rig.on_incidents(event)
    await rig.on_incidents(*events)  # redelivered: nobody is told twice
    staff = list(rig.webhook.sent)
    assert [m.subject.split(" ")[0] for m in staff] == [
        "批量投诉",
        "批量投诉更新",
        "批量投诉更新",
        "批量投诉关闭",
    ]
    assert "20件" in staff[0].body
    assert "40件" in staff[1].body
    assert "100件" in staff[2].body
    assert all(m.recipient == "network-operations" for m in staff)
    for message in staff:  # counts, area, times; never a phone number
        assert "+86" not in message.body
        assert "138" not in message.body
    assert "09:30" in staff[0].body


async def test_each_customer_gets_one_notice_and_one_restoration_notice() -> None:
    rig = rig_for(40)
    opened = change(IncidentChange.OPENED, range(1, 21), range(1, 21), sequence=1)
    grown = change(IncidentChange.GROWN, range(1, 41), range(21, 41), sequence=2)
    closed = change(IncidentChange.CLOSED, range(1, 41), range(0), sequence=3)
    await rig.on_incidents(opened, grown)
    await rig.on_incidents(opened, grown)
    # Clocks set afterwards: the acknowledgement is the notice already sent, not a second one.
    await rig.on_sla(*(sla_set(cid(n)) for n in range(1, 41)))
    await rig.on_incidents(closed, closed)
    told = customer_messages(rig)
    for n in range(1, 41):
        phone = f"+86138{n:08d}"
        assert told[(phone, "故障受理通知")] == 1
        assert told[(phone, "故障已恢复")] == 1
        assert told[(phone, "投诉受理通知")] == 0
    assert sum(told.values()) == 80
    # The notice acknowledges the case: its receipt has an acknowledgement template.
    templates = Counter(r.data.template for r in rig.receipts if r.data.audience == "customer")
    assert templates["acknowledgement_incident"] == 40


async def test_acknowledged_before_the_incident_get_the_notice_as_an_update() -> None:
    rig = rig_for(25)
    await rig.on_sla(*(sla_set(cid(n)) for n in range(1, 6)))  # acknowledged one by one
    await rig.on_incidents(change(IncidentChange.OPENED, range(1, 21), range(1, 21), sequence=1))
    told = customer_messages(rig)
    for n in range(1, 6):
        phone = f"+86138{n:08d}"
        assert told[(phone, "投诉受理通知")] == 1
        assert told[(phone, "故障进展")] == 1
        assert told[(phone, "故障受理通知")] == 0
    for n in range(6, 21):
        assert told[(f"+86138{n:08d}", "故障受理通知")] == 1
        assert told[(f"+86138{n:08d}", "故障进展")] == 0


async def test_a_complaint_that_joins_an_open_incident_gets_the_notice_instead_of_boilerplate() -> (
    None
):
    rig = rig_for(25)
    await rig.on_incidents(change(IncidentChange.OPENED, range(1, 21), range(1, 21), sequence=1))
    late = classified(Kind.COMPLAINT, cid=cid(21))
    late = late.model_copy(update={"data": late.data.model_copy(update={"incident_id": INCIDENT})})
    await rig.on_classified(late)
    await rig.on_sla(sla_set(cid(21)))  # before the incident event that lists it
    await rig.on_incidents(change(IncidentChange.GROWN, range(1, 22), range(21, 22), sequence=2))
    told = customer_messages(rig)
    phone = f"+86138{21:08d}"
    assert told[(phone, "故障受理通知")] == 1
    assert told[(phone, "投诉受理通知")] == 0
    assert told[(phone, "故障进展")] == 0


class Killed(BaseException):
    """The process dies (not an error a channel reports)."""


class DyingChannel:
    """Sends `survive` messages, then the process dies mid fan-out."""

    def __init__(self, survive: int) -> None:
        self.name = "sms"
        self.survive = survive
        self.sent: list[Message] = []

    async def send(self, message: Message) -> None:
        if len(self.sent) >= self.survive:
            raise Killed
        self.sent.append(message)


async def test_killed_mid_fan_out_every_customer_still_gets_one_notice() -> None:
    phones = {cid(n): f"+86138{n:08d}" for n in range(1, 41)}
    dying = DyingChannel(survive=13)
    first = Rig(phones=phones, channels={"sms": dying, "webhook": FakeChannel("webhook")})
    opened = change(IncidentChange.OPENED, range(1, 41), range(1, 41), sequence=1)
    with pytest.raises(Killed):
        await first.on_incidents(opened)
    # The restarted notifier gets the event again (offset not committed) after the claims' lease.
    later = FakeClock(NOW + timedelta(minutes=10))
    second = Rig(phones=phones, log=first.log, clock=later)
    await second.on_incidents(opened)
    while await second.dispatcher.run_once():
        pass
    sent = [*dying.sent, *second.sms.sent]
    # None lost: every customer was sent the notice. One notification each: a message sent
    # just before the process died (never recorded) goes again after the lease, under the same
    # key, which the gateway deduplicates on; no customer ever gets a second, different one.
    assert {m.address for m in sent} == set(phones.values())
    keys = {(m.address, m.key) for m in sent}
    assert Counter(address for address, _ in keys) == Counter(phones.values())
    assert len([m for m in sent if m.address not in {x.address for x in dying.sent}]) == 27
    assert all(m.subject.startswith("故障受理通知") for m in [*dying.sent, *second.sms.sent])


class SlowChannel:
    """Holds every message until released: a live sender slower than its lease."""

    def __init__(self) -> None:
        self.name = "sms"
        self.sent: list[Message] = []
        self.release = asyncio.Event()

    async def send(self, message: Message) -> None:
        await self.release.wait()
        self.sent.append(message)


async def test_a_slow_live_sender_keeps_its_claims_and_a_dead_ones_come_due_in_one_lease() -> None:
    # The claim path: a channel whose provider may not drop a repeated key (ADR 0038).
    phones = {cid(n): f"+86138{n:08d}" for n in range(1, 4)}
    slow = SlowChannel()
    live = Rig(phones=phones, channels={"sms": slow, "webhook": FakeChannel("webhook")})
    live.sender.repeat_safe = frozenset()
    live.notifier.renew_every = 0.01
    other = Rig(phones=phones, log=live.log, clock=live.clock)
    opened = change(IncidentChange.OPENED, range(1, 4), range(1, 4), sequence=1)
    sending = asyncio.create_task(live.on_incidents(opened))
    await asyncio.sleep(0.05)
    live.clock.advance(live.notifier.claim_lease * 3)  # the first lease is long over
    await asyncio.sleep(0.05)  # … but it was renewed meanwhile
    assert await other.dispatcher.run_once() == 0
    slow.release.set()
    await sending
    assert sorted(m.address for m in slow.sent) == sorted(phones.values())
    assert await other.dispatcher.run_once() == 0
    assert other.sms.sent == []
    # A sender that died renews nothing: its claims are due one lease after they were taken.
    dying = DyingChannel(survive=0)
    dead = Rig(phones=phones, channels={"sms": dying, "webhook": FakeChannel("webhook")})
    dead.sender.repeat_safe = frozenset()
    with pytest.raises(Killed):
        await dead.on_incidents(opened)
    assert await dead.log.next_due_at() == dead.clock.now() + dead.notifier.claim_lease


async def test_sent_first_a_dead_senders_notices_go_on_the_redelivery_once_each() -> None:
    # The SMS gateway drops a repeated key: nothing is stored before the send (ADR 0038).
    phones = {cid(n): f"+86138{n:08d}" for n in range(1, 6)}
    dying, log = DyingChannel(survive=2), InMemoryNotificationLog()
    dead = Rig(phones=phones, channels={"sms": dying, "webhook": FakeChannel("webhook")}, log=log)
    opened = change(IncidentChange.OPENED, range(1, 6), range(1, 6), sequence=1)
    with pytest.raises(Killed):
        await dead.on_incidents(opened)
    assert await dead.log.next_due_at() is None  # nothing claimed: nothing for a dispatcher
    assert log.statuses() == {}  # two were sent, none recorded: the offset stays too
    again = Rig(phones=phones, log=dead.log, clock=dead.clock)
    await again.on_incidents(opened)  # the redelivery
    await again.on_incidents(opened)  # and once more: all stored now, nothing is sent
    sent = [*dying.sent, *again.sms.sent]
    assert len(again.sms.sent) == 5  # the two sent before the death go again, same keys
    assert {m.key for m in dying.sent} <= {m.key for m in again.sms.sent}
    assert len({m.key for m in sent}) == 5
    assert set(log.statuses().values()) == {DeliveryStatus.DELIVERED.value}
    assert len({r.id for r in again.receipts}) == len(log.statuses())  # once each


async def test_a_hot_issue_reaches_the_company_contact_with_the_complaints_behind_it() -> None:
    rig = rig_for(3)
    event = classified(Kind.COMPLAINT, cid=cid(3))
    flag = Flag(name=FlagName.HOT_ISSUE, count=3, related=[cid(2), cid(1)])
    event = event.model_copy(update={"data": event.data.model_copy(update={"flags": [flag]})})
    await rig.on_classified(event)
    await rig.on_classified(event)  # redelivered: reported once
    [report] = [m for m in rig.webhook.sent if m.recipient == "company-complaints-office"]
    assert "3位客户" in report.body
    assert cid(1) in report.body
    assert cid(2) in report.body
    assert cid(3) in report.body
    assert "+86" not in report.body


async def test_a_batch_of_incident_events_is_one_join_and_one_claim_of_its_notices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rig = rig_for(60)
    calls: Counter[str] = Counter()
    join, claim = rig.incidents.join, rig.log.claim

    async def counted_join(*args: Any, **kwargs: Any) -> Any:
        calls["join"] += 1
        return await join(*args, **kwargs)

    async def counted_claim(deliveries: Any, **kwargs: Any) -> Any:
        calls["claim"] += bool(deliveries)  # an empty claim writes nothing
        return await claim(deliveries, **kwargs)

    monkeypatch.setattr(rig.incidents, "join", counted_join)
    monkeypatch.setattr(rig.log, "claim", counted_claim)
    await rig.on_incidents(
        change(IncidentChange.OPENED, range(1, 21), range(1, 21), sequence=1),
        change(IncidentChange.GROWN, range(1, 41), range(21, 41), sequence=2),
        change(IncidentChange.GROWN, range(1, 61), range(41, 61), sequence=3),
    )
    assert calls["join"] == 1  # not one per event
    assert calls["claim"] == 1  # every notice and the staff's in one delivery
    assert len(await rig.incidents.members([cid(n) for n in range(1, 61)])) == 60
    assert len(customer_messages(rig)) == 60  # each customer told once


async def test_a_member_removed_in_the_batch_that_added_it_stays_removed() -> None:
    rig = rig_for(30)
    opened = change(IncidentChange.OPENED, range(1, 21), range(1, 21), sequence=1)
    removed = change(IncidentChange.MEMBER_REMOVED, range(2, 21), range(0), sequence=2)
    removed = removed.model_copy(
        update={"data": removed.data.model_copy(update={"removed_ids": [cid(1)]})}
    )
    grown = change(IncidentChange.GROWN, range(2, 31), range(21, 31), sequence=3)
    await rig.on_incidents(opened, removed, grown)
    known = await rig.incidents.members([cid(n) for n in range(1, 31)])
    assert cid(1) not in known
    assert len(known) == 29
