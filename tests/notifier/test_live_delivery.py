"""The whole notifier on real channels against local servers: once, on time, and signed.

Counting happens at the receiving end (HTTP receiver, SMTP mailbox), not at the sender.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from contracts import (
    Audience,
    ClockName,
    DeliveryStatus,
    Event,
    NotificationSent,
    SlaChanged,
    SlaEventKind,
    Topic,
)
from notifier.adapters.memory import InMemoryNotificationLog
from notifier.channels.base import Channel
from notifier.channels.http import SignedHttpChannel
from notifier.channels.robots import DingTalkRobotChannel, WeComRobotChannel
from notifier.channels.smtp import SmtpChannel
from notifier.channels.wire import HttpClient
from notifier.domain import parse_directory
from notifier.sender import RetryPolicy
from servicekit.clock import FakeClock
from tests._builders.doubles import FlakyPublisher
from tests.notifier.rig import CID, MORNING, NIGHT, NOW, PHONE, Rig, sla_alert, sla_set
from tests.notifier.servers import (
    DINGTALK_SECRET,
    DINGTALK_TOKEN,
    SMS_SECRET,
    WEBHOOK_SECRET,
    WECOM_KEY,
    Mailbox,
    Receiver,
    Reply,
    serving_http,
    serving_smtp,
)

DIRECTORY = parse_directory(
    [
        {"id": "handler-desk", "audiences": ["handler"], "channel": "webhook"},
        {"id": "lead-desk", "audiences": ["team_lead"], "channel": "webhook"},
        {"id": "lead-wecom", "audiences": ["team_lead"], "channel": "wecom"},
        {"id": "lead-dingtalk", "audiences": ["team_lead"], "channel": "dingtalk"},
        {
            "id": "lead-mail",
            "audiences": ["team_lead"],
            "channel": "email",
            "address": "lead@example.com",
        },
    ]
)


@dataclass
class Servers:
    """The receiver, the mailbox and channels pointed at them."""

    receiver: Receiver
    mailbox: Mailbox
    channels: dict[str, Channel]


@pytest.fixture
async def servers() -> AsyncIterator[Servers]:
    receiver, mailbox = Receiver(), Mailbox()
    async with (
        serving_http(receiver) as base,
        serving_smtp(mailbox) as smtp_port,
        HttpClient(timeout=0.3) as client,
    ):
        channels: dict[str, Channel] = {
            "sms": SignedHttpChannel(
                name="sms", url=f"{base}/sms", secret=SMS_SECRET, client=client
            ),
            "webhook": SignedHttpChannel(
                name="webhook", url=f"{base}/webhook", secret=WEBHOOK_SECRET, client=client
            ),
            "wecom": WeComRobotChannel(url=f"{base}/wecom", key=WECOM_KEY, client=client),
            "dingtalk": DingTalkRobotChannel(
                url=f"{base}/dingtalk",
                access_token=DINGTALK_TOKEN,
                secret=DINGTALK_SECRET,
                client=client,
            ),
            "email": SmtpChannel(
                host="127.0.0.1", port=smtp_port, sender="n@example.com", starttls=False
            ),
        }
        yield Servers(receiver, mailbox, channels)


def live_rig(
    servers: Servers,
    *,
    log: InMemoryNotificationLog | None = None,
    clock: FakeClock | None = None,
    publisher: FlakyPublisher[Event] | None = None,
) -> Rig:
    rig = Rig(
        channels=servers.channels,
        directory=DIRECTORY,
        log=log,
        clock=clock,
        publisher=publisher,
    )
    rig.sender.retry = RetryPolicy(max_attempts=3, base_seconds=0.001, cap_seconds=0.005)
    rig.sender.sleep = asyncio.sleep
    return rig


def breach(*, at: datetime = NOW) -> SlaChanged:
    return sla_alert(
        SlaEventKind.BREACHED,
        clock=ClockName.RESOLUTION,
        audiences=[Audience.HANDLER, Audience.TEAM_LEAD, Audience.CUSTOMER],
        at=at,
    )


async def test_a_breach_reaches_every_recipient_once_on_every_channel(servers: Servers) -> None:
    rig = live_rig(servers)
    event = breach()
    await rig.on_sla(event, event)  # redelivered in the same batch
    await rig.on_sla(event)  # and again later
    box = servers.receiver
    assert [b["template"] for b in box.bodies("/sms")] == ["customer_delay"]
    assert sorted(b["recipient"] for b in box.bodies("/webhook")) == ["handler-desk", "lead-desk"]
    assert len(box.bodies("/wecom")) == 1
    assert len(box.bodies("/dingtalk")) == 1
    [mail] = servers.mailbox.messages
    assert mail["To"] == "lead@example.com"
    assert box.duplicate_ids() == []
    assert box.bad_signatures == 0
    assert len(rig.receipts) == 6
    assert {r.data.status for r in rig.receipts} == {DeliveryStatus.DELIVERED}
    assert {r.data.channel for r in rig.receipts} == {
        "sms",
        "webhook",
        "wecom",
        "dingtalk",
        "email",
    }


async def test_two_notifier_replicas_claiming_first_never_deliver_twice(servers: Servers) -> None:
    log, clock, publisher = InMemoryNotificationLog(), FakeClock(NOW), FlakyPublisher(Event)
    first = live_rig(servers, log=log, clock=clock, publisher=publisher)
    second = live_rig(servers, log=log, clock=clock, publisher=publisher)
    first.sender.repeat_safe = second.sender.repeat_safe = frozenset()  # every channel claims
    ack, event = sla_set(), breach()
    await asyncio.gather(first.on_sla(ack, event), second.on_sla(event, ack), first.on_sla(ack))
    box = servers.receiver
    assert sorted(b["template"] for b in box.bodies("/sms")) == [
        "acknowledgement",
        "customer_delay",
    ]
    assert box.duplicate_ids() == []
    assert len(servers.mailbox.messages) == 1
    assert len(box.accepted) == 6  # 2 SMS, 2 webhook, WeCom, DingTalk


async def test_two_replicas_sending_first_repeat_only_keys_the_gateway_drops(
    servers: Servers,
) -> None:
    """SMS and webhook go before their key is stored (ADR 0038): replicas racing on one event
    may both send it, under the same key and body, which the gateway drops as a repeat; the
    robots and e-mail are claimed first and go once; each outcome is stored and announced once."""
    log, clock, publisher = InMemoryNotificationLog(), FakeClock(NOW), FlakyPublisher(Event)
    first = live_rig(servers, log=log, clock=clock, publisher=publisher)
    second = live_rig(servers, log=log, clock=clock, publisher=publisher)
    ack, event = sla_set(), breach()
    await asyncio.gather(first.on_sla(ack, event), second.on_sla(event, ack), first.on_sla(ack))
    box = servers.receiver
    by_key: dict[str, set[bytes]] = {}
    for request in box.accepted:
        by_key.setdefault(request.headers.get("idempotency-key") or request.path, set()).add(
            request.body if request.path in ("/sms", "/webhook") else b""
        )
    sms = {r.json()["id"]: r.json()["template"] for r in box.accepted if r.path == "/sms"}
    assert sorted(sms.values()) == ["acknowledgement", "customer_delay"]
    assert all(len(bodies) == 1 for bodies in by_key.values())  # a repeat is the same message
    assert len(servers.mailbox.messages) == 1
    assert len([r for r in box.accepted if r.path in ("/wecom", "/dingtalk")]) == 2
    keyed = [r for r in box.accepted if r.path in ("/sms", "/webhook")]
    assert len({r.headers["idempotency-key"] for r in keyed}) == 4  # 2 SMS, 2 webhook
    assert set(log.statuses().values()) == {"delivered"}
    receipts = [e for e in publisher.events if isinstance(e, NotificationSent)]
    assert len({(e.data.notification_id, e.id) for e in receipts}) == len(log.statuses())


async def test_quiet_hours_defer_the_customer_sms_until_the_dispatcher_sends_it(
    servers: Servers,
) -> None:
    rig = live_rig(servers, clock=FakeClock(NIGHT))
    await rig.on_sla(breach(at=NIGHT))
    box = servers.receiver
    assert box.bodies("/sms") == []
    assert len(box.bodies("/webhook")) == 2  # staff are told at once
    deferred = [r.data for r in rig.receipts if r.data.status is DeliveryStatus.DEFERRED]
    assert [(d.audience, d.deliver_after) for d in deferred] == [(Audience.CUSTOMER, MORNING)]
    rig.clock.set(MORNING + timedelta(seconds=1))
    assert await rig.dispatcher.run_once() == 1
    [sms] = box.bodies("/sms")
    assert (sms["to"], sms["template"]) == (PHONE, "customer_delay")
    assert await rig.dispatcher.run_once() == 0
    await rig.on_sla(breach(at=NIGHT))
    assert len(box.bodies("/sms")) == 1


async def test_a_gateway_that_keeps_failing_ends_in_a_dead_letter(servers: Servers) -> None:
    servers.receiver.script["/sms"] = [Reply(500, {})] * 6
    rig = live_rig(servers)
    await rig.on_sla(sla_set())
    assert len([r for r in servers.receiver.requests if r.path == "/sms"]) == 3
    [waiting] = rig.receipts
    assert (waiting.data.status, waiting.data.attempts) == (DeliveryStatus.DEFERRED, 3)
    # Redelivery does not start over; the dispatcher tries again only once the message is due.
    await rig.on_sla(sla_set())
    assert len([r for r in servers.receiver.requests if r.path == "/sms"]) == 3
    rig.clock.advance(timedelta(hours=7))  # older than the give-up horizon: last round
    assert await rig.dispatcher.run_once() == 1
    assert len([r for r in servers.receiver.requests if r.path == "/sms"]) == 6
    final = rig.receipts[-1]
    assert (final.data.status, final.data.attempts) == (DeliveryStatus.FAILED, 3)
    [letter] = rig.dead_letters
    assert letter.data.original_topic == Topic.SLA.value
    assert letter.data.detail == "sms: HTTP 500"


async def test_a_storm_of_warnings_reaches_the_desk_as_one_signed_digest(
    servers: Servers,
) -> None:
    rig = live_rig(servers)
    for i in range(1, 10):
        await rig.on_sla(
            sla_alert(
                SlaEventKind.WARNED,
                cid=f"CP20261124-{i:010d}",
                threshold=80,
                audiences=[Audience.HANDLER],
            )
        )
    box = servers.receiver
    assert len(box.bodies("/webhook")) == 5
    rig.clock.advance(timedelta(minutes=2))
    assert await rig.dispatcher.run_once() == 4
    digest = box.bodies("/webhook")[-1]
    assert digest["template"] == "staff_digest"
    assert all(f"CP20261124-{i:010d}" in digest["text"] for i in range(6, 10))
    assert box.bad_signatures == 0
    assert len(box.bodies("/webhook")) == 6
    delivered = {r.data.complaint_id for r in rig.receipts if r.data.status.value == "delivered"}
    assert len(delivered) == 9


async def test_rate_limited_sms_arrive_later_in_order(servers: Servers) -> None:
    rig = live_rig(servers)
    for i in range(5):
        # Five different clocks of one case breach at once: five delay notices to one phone.
        await rig.on_sla(
            sla_alert(
                SlaEventKind.BREACHED, clock=list(ClockName)[i], audiences=[Audience.CUSTOMER]
            )
        )
    box = servers.receiver
    assert len(box.bodies("/sms")) == 3
    waits = sorted(
        r.data.deliver_after
        for r in rig.receipts
        if r.data.status is DeliveryStatus.DEFERRED and r.data.deliver_after
    )
    assert len(waits) == 2
    assert waits[1] - waits[0] == timedelta(minutes=10)
    rig.clock.set(waits[0])
    assert await rig.dispatcher.run_once() == 1
    rig.clock.set(waits[1])
    assert await rig.dispatcher.run_once() == 1
    assert len(box.bodies("/sms")) == 5
    assert box.duplicate_ids() == []
    assert CID in box.bodies("/sms")[-1]["text"]
