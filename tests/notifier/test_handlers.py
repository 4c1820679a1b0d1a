"""Handler-level tests of `Notifier`: fake channels, memory log and contact book, fake clock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

from contracts import (
    Audience,
    Channel,
    ClassifiedComplaint,
    ClockName,
    ComplaintClassified,
    DeadlineView,
    DeliveryStatus,
    Event,
    Kind,
    NotificationSent,
    Severity,
    SlaChange,
    SlaChanged,
    SlaEventKind,
    Topic,
)
from notifier.adapters.memory import InMemoryContactBook, InMemoryNotificationLog
from notifier.channels.base import Message, PermanentDeliveryError, TransientDeliveryError
from notifier.domain import Intent, Templates
from notifier.metrics import NotifierMetrics
from notifier.service import Notifier, RetryPolicy
from servicekit.clock import FakeClock
from servicekit.delivery import Inbound
from tests.support import FlakyPublisher

POLICIES = Path(__file__).resolve().parents[2] / "policies"
NOW = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
CID = "CP20261124-0000000001"
PHONE = "+8613812345678"
PROMISED = "2026-11-27 18:00"


def pack_templates() -> Templates:
    """The telecom pack's templates, as the app loads them."""
    with (POLICIES / "telecom" / "notifier.yaml").open(encoding="utf-8") as handle:
        return Templates(yaml.safe_load(handle)["templates"])


class FakeChannel:
    """Records messages; fails with the queued errors first."""

    def __init__(self, name: str, errors: Sequence[Exception] = ()) -> None:
        self.name = name
        self.errors = list(errors)
        self.calls = 0
        self.sent: list[Message] = []

    async def send(self, message: Message) -> None:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append(message)


class Rig:
    """A notifier with fake channels."""

    def __init__(self, *, sms_errors: Sequence[Exception] = (), phones: bool = True) -> None:
        self.sms = FakeChannel("sms", sms_errors)
        self.webhook = FakeChannel("webhook")
        self.log = InMemoryNotificationLog()
        self.publisher = FlakyPublisher(NotificationSent)
        self.clock = FakeClock(NOW + timedelta(seconds=2))
        self.registry = CollectorRegistry()
        self.notifier = Notifier(
            log=self.log,
            contacts=InMemoryContactBook({CID: PHONE} if phones else {}),
            templates=pack_templates(),
            channels={"sms": self.sms, "webhook": self.webhook},
            publish=self.publisher,
            clock=self.clock,
            metrics=NotifierMetrics(self.registry),
            staff_recipient="ops-duty",
            retry=RetryPolicy(max_attempts=4, base_seconds=0.0001, cap_seconds=0.001),
        )
        self._offset = 0

    def inbound(self, event: Event, topic: Topic) -> Inbound:
        self._offset += 1
        return Inbound(
            topic.value, 0, self._offset, CID.encode(), event.model_dump_json().encode(), 0
        )

    async def on_sla(self, *events: SlaChanged) -> None:
        assert await self.notifier.on_sla([self.inbound(e, Topic.SLA) for e in events]) == []

    async def on_classified(self, *events: ComplaintClassified) -> None:
        messages = [self.inbound(e, Topic.CLASSIFIED) for e in events]
        assert await self.notifier.on_classified(messages) == []


def sla_set() -> SlaChanged:
    """Clocks set for CID, resolution promised for PROMISED."""
    change = SlaChange(
        complaint_id=CID,
        event=SlaEventKind.SET,
        severity=Severity.P4,
        deadlines=[
            DeadlineView(
                clock=ClockName.ACKNOWLEDGE,
                due_at=NOW + timedelta(hours=1),
                due_at_local="2026-11-24 10:30",
            ),
            DeadlineView(
                clock=ClockName.RESOLUTION,
                due_at=datetime(2026, 11, 27, 10, 0, tzinfo=UTC),
                due_at_local=PROMISED,
            ),
        ],
        policy_version="test",
        calendar_version="test",
    )
    return SlaChanged.build(
        data=change, subject=CID, source="/complaints/sla", time=NOW, cause="clocks-started"
    )


def sla_breached() -> SlaChanged:
    """The acknowledge clock of CID breached; handler and team lead are told."""
    change = SlaChange(
        complaint_id=CID,
        event=SlaEventKind.BREACHED,
        severity=Severity.P4,
        clock=ClockName.ACKNOWLEDGE,
        threshold=100,
        due_at=NOW + timedelta(hours=1),
        audiences=[Audience.HANDLER, Audience.TEAM_LEAD],
        policy_version="test",
        calendar_version="test",
    )
    return SlaChanged.build(
        data=change, subject=CID, source="/complaints/sla", time=NOW, cause="ack@100"
    )


def classified(kind: Kind) -> ComplaintClassified:
    """A non-complaint (or complaint) decision for CID."""
    data = ClassifiedComplaint(
        complaint_id=CID,
        channel=Channel.SMS,
        received_at=NOW,
        kind=kind,
        severity=Severity.P4 if kind is Kind.COMPLAINT else None,
        category="billing/overcharge" if kind is Kind.COMPLAINT else None,
        confidence=0.9,
        model_version="test",
        policy="telecom",
        policy_version="test",
    )
    return ComplaintClassified.build(
        data=data, subject=CID, source="/complaints/classifier", time=NOW, cause=CID
    )


async def test_clocks_set_sends_one_customer_sms_with_case_and_promised_time() -> None:
    rig = Rig()
    await rig.on_sla(sla_set())
    [message] = rig.sms.sent
    assert message.recipient == PHONE
    assert CID in message.body
    assert PROMISED in message.body
    assert "{{" not in message.body
    assert message.template == "acknowledgement"
    assert rig.webhook.sent == []
    [receipt] = rig.publisher.events
    data = receipt.data
    assert (data.audience, data.template, data.status) == (
        Audience.CUSTOMER,
        "acknowledgement",
        DeliveryStatus.DELIVERED,
    )
    assert data.attempts == 1
    assert data.recipient == "+86138****5678"
    assert PHONE not in receipt.model_dump_json()
    assert data.latency_ms == pytest.approx(2000.0)


async def test_same_event_twice_is_sent_once() -> None:
    rig = Rig()
    event = sla_set()
    await rig.on_sla(event, event)
    await rig.on_sla(event)
    assert len(rig.sms.sent) == 1
    assert len(rig.publisher.events) == 1
    assert rig.registry.get_sample_value("complaints_notifications_suppressed_total") == 1


async def test_transient_failures_are_retried_until_delivered() -> None:
    rig = Rig(sms_errors=[TransientDeliveryError("503"), TransientDeliveryError("timeout")])
    await rig.on_sla(sla_set())
    assert rig.sms.calls == 3
    assert len(rig.sms.sent) == 1
    [receipt] = rig.publisher.events
    assert receipt.data.status is DeliveryStatus.DELIVERED
    assert receipt.data.attempts == 3
    assert (
        rig.registry.get_sample_value("complaints_notification_attempts_total", {"channel": "sms"})
        == 3
    )


async def test_transient_failures_beyond_the_attempts_end_failed() -> None:
    rig = Rig(sms_errors=[TransientDeliveryError("503")] * 10)
    await rig.on_sla(sla_set())
    assert rig.sms.calls == 4
    [receipt] = rig.publisher.events
    assert receipt.data.status is DeliveryStatus.FAILED
    assert receipt.data.attempts == 4
    assert receipt.data.reason == "503"


async def test_permanent_failure_is_not_retried_and_fails_the_receipt() -> None:
    rig = Rig(sms_errors=[PermanentDeliveryError("invalid number")])
    await rig.on_sla(sla_set())
    assert rig.sms.calls == 1
    [receipt] = rig.publisher.events
    assert receipt.data.status is DeliveryStatus.FAILED
    assert receipt.data.attempts == 1
    assert receipt.data.reason == "invalid number"
    # A failed notification is settled: redelivery does not try again.
    await rig.on_sla(sla_set())
    assert rig.sms.calls == 1


async def test_template_syntax_in_values_is_rendered_as_text() -> None:
    rig = Rig()
    hostile = "{{ 7*7 }}{% for x in range(3) %}X{% endfor %}"
    intent = Intent(
        key=f"{CID}:ack:-:-:customer",
        complaint_id=CID,
        audience=Audience.CUSTOMER,
        template="acknowledgement",
        trigger_time=NOW,
        context={"case": CID, "promised": hostile},
    )
    await rig.notifier.deliver([intent])
    [message] = rig.sms.sent
    assert hostile in message.body
    assert "49" not in message.body
    assert "XXX" not in message.body


async def test_enquiry_is_acknowledged_on_classification() -> None:
    rig = Rig()
    await rig.on_classified(classified(Kind.ENQUIRY))
    [message] = rig.sms.sent
    assert message.template == "acknowledgement_enquiry"
    assert CID in message.body
    [receipt] = rig.publisher.events
    assert receipt.data.template == "acknowledgement_enquiry"
    assert receipt.data.status is DeliveryStatus.DELIVERED


async def test_complaint_is_not_acknowledged_on_classification() -> None:
    rig = Rig()
    await rig.on_classified(classified(Kind.COMPLAINT))
    assert rig.sms.sent == []
    assert rig.publisher.events == []


async def test_no_phone_on_file_gives_a_failed_no_contact_receipt() -> None:
    rig = Rig(phones=False)
    await rig.on_sla(sla_set())
    assert rig.sms.calls == 0
    [receipt] = rig.publisher.events
    assert receipt.data.status is DeliveryStatus.FAILED
    assert receipt.data.reason == "no_contact"
    assert receipt.data.attempts == 0


async def test_breach_alerts_each_staff_audience_by_webhook() -> None:
    rig = Rig()
    await rig.on_sla(sla_breached())
    assert rig.sms.sent == []
    assert sorted(m.audience for m in rig.webhook.sent) == ["handler", "team_lead"]
    assert all(m.template == "staff_breached" and CID in m.body for m in rig.webhook.sent)
    assert {r.data.audience for r in rig.publisher.events} == {
        Audience.HANDLER,
        Audience.TEAM_LEAD,
    }


async def test_invalid_event_is_rejected() -> None:
    rig = Rig()
    bad = Inbound(Topic.SLA.value, 0, 1, None, b'{"type": "nope"}', 0)
    rejections = await rig.notifier.on_sla([bad])
    assert [(r.reason, r.message) for r in rejections] == [("invalid_event", bad)]
    assert rig.sms.calls == 0


async def test_stale_claim_of_a_crashed_sender_is_sent_again() -> None:
    rig = Rig()
    # A sender claimed the key and died before completing it.
    [intent_claimed] = await rig.log.claim(
        [_ack_intent()], now=rig.clock.now(), stale_before=rig.clock.now() - timedelta(minutes=2)
    )
    await rig.on_sla(sla_set())
    assert rig.sms.sent == []
    rig.clock.advance(timedelta(minutes=3))
    await rig.on_sla(sla_set())
    assert len(rig.sms.sent) == 1
    assert intent_claimed.key == rig.publisher.events[0].data.notification_id


def _ack_intent() -> Intent:
    return Intent(
        key=f"{CID}:ack:-:-:customer",
        complaint_id=CID,
        audience=Audience.CUSTOMER,
        template="acknowledgement",
        trigger_time=NOW,
        context={"case": CID, "promised": PROMISED},
    )


async def test_receipt_survives_a_failed_publish() -> None:
    rig = Rig()
    rig.publisher.failures = 1
    with pytest.raises(TimeoutError):
        await rig.on_sla(sla_set())
    await rig.on_sla(sla_set())
    assert len(rig.sms.sent) == 1
    assert [r.data.status for r in rig.publisher.events] == [DeliveryStatus.DELIVERED]
