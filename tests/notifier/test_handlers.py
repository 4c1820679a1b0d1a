"""Handler-level tests of `Notifier`: fake channels, in-memory ports, fake clock."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from contracts import (
    Audience,
    CaseState,
    ClockName,
    DeliveryStatus,
    FlagName,
    Kind,
    LifecycleAction,
    Severity,
    SlaEventKind,
    Topic,
)
from notifier.channels.base import PermanentDeliveryError, TransientDeliveryError
from notifier.domain import Delivery, Recipient
from notifier.handlers import LIFECYCLE, SLA
from servicekit.bodies import deliver
from servicekit.delivery import Inbound
from tests.notifier.rig import (
    CID,
    PHONE,
    PROMISED,
    FakeChannel,
    Rig,
    ack_intent,
    action_rejected,
    action_taken,
    classified,
    sla_alert,
    sla_set,
    state_changed,
)

POLICIES = Path(__file__).resolve().parents[2] / "policies"


async def test_clocks_set_sends_one_customer_sms_with_case_and_promised_time() -> None:
    rig = Rig()
    await rig.on_sla(sla_set())
    [message] = rig.sms.sent
    assert message.address == PHONE
    assert CID in message.body
    assert PROMISED in message.body
    assert "{{" not in message.body
    assert message.template == "acknowledgement"
    assert rig.webhook.sent == []
    [receipt] = rig.receipts
    data = receipt.data
    assert (data.audience, data.template, data.status) == (
        Audience.CUSTOMER,
        "acknowledgement",
        DeliveryStatus.DELIVERED,
    )
    assert data.attempts == 1
    assert data.acknowledgement  # typed: the SLA meets the acknowledge clock on it
    assert data.recipient == "+86138****5678"
    assert PHONE not in receipt.model_dump_json()
    assert data.latency_ms == pytest.approx(2000.0)


async def test_same_event_twice_is_sent_once() -> None:
    rig = Rig()
    event = sla_set()
    await rig.on_sla(event, event)
    await rig.on_sla(event)
    assert len(rig.sms.sent) == 1
    assert len(rig.receipts) == 1
    assert rig.metric("complaints_notifications_suppressed_total") == 1


async def test_transient_failures_are_retried_with_growing_backoff_until_delivered() -> None:
    rig = Rig(sms_errors=[TransientDeliveryError("503"), TransientDeliveryError("timeout")])
    await rig.on_sla(sla_set())
    assert rig.sms.calls == 3
    assert len(rig.sms.sent) == 1
    [receipt] = rig.receipts
    assert receipt.data.status is DeliveryStatus.DELIVERED
    assert receipt.data.attempts == 3
    assert rig.metric("complaints_notification_attempts_total", channel="sms") == 3
    # Full jitter: each wait lies within its doubling cap (0.5 s, then 1 s).
    assert len(rig.sleeps) == 2
    assert 0 <= rig.sleeps[0] <= 0.5
    assert 0 <= rig.sleeps[1] <= 1.0


async def test_a_channel_that_stays_down_is_retried_later_then_dead_lettered() -> None:
    rig = Rig(sms_errors=[TransientDeliveryError("sms: HTTP 503")] * 100)
    await rig.on_sla(sla_set())
    assert rig.sms.calls == 4
    [waiting] = rig.receipts
    assert waiting.data.status is DeliveryStatus.DEFERRED
    assert waiting.data.reason == "channel_unavailable"
    assert rig.dead_letters == []
    # Half a minute later it goes again (the channel may be back) ...
    rig.clock.advance(timedelta(seconds=31))
    assert await rig.dispatcher.run_once() == 1
    assert rig.sms.calls == 8
    # ... until it is six hours old: then it fails for good and is dead-lettered.
    rig.clock.advance(timedelta(hours=6))
    assert await rig.dispatcher.run_once() == 1
    final = rig.receipts[-1]
    assert final.data.status is DeliveryStatus.FAILED
    assert final.data.reason == "sms: HTTP 503"
    [letter] = rig.dead_letters
    assert letter.data.service == "notifier"
    assert letter.data.original_topic == Topic.SLA.value
    assert letter.subject == CID
    assert PHONE not in letter.model_dump_json()


async def test_a_channel_back_within_the_retries_later_delivers_once() -> None:
    rig = Rig(sms_errors=[TransientDeliveryError("sms: HTTP 503")] * 4)
    await rig.on_sla(sla_set())
    rig.clock.advance(timedelta(seconds=31))
    assert await rig.dispatcher.run_once() == 1
    assert [r.data.status for r in rig.receipts] == [
        DeliveryStatus.DEFERRED,
        DeliveryStatus.DELIVERED,
    ]
    assert rig.sms.calls == 5
    rig.clock.advance(timedelta(minutes=5))
    assert await rig.dispatcher.run_once() == 0


async def test_permanent_failure_is_not_retried_and_fails_the_receipt() -> None:
    rig = Rig(sms_errors=[PermanentDeliveryError("invalid number")])
    await rig.on_sla(sla_set())
    assert rig.sms.calls == 1
    [receipt] = rig.receipts
    assert receipt.data.status is DeliveryStatus.FAILED
    assert receipt.data.attempts == 1
    assert receipt.data.reason == "invalid number"
    # A failed notification is settled: redelivery does not try again.
    await rig.on_sla(sla_set())
    assert rig.sms.calls == 1


async def test_template_syntax_in_values_is_rendered_as_text() -> None:
    rig = Rig()
    hostile = "{{ 7*7 }}{% for x in range(3) %}X{% endfor %}"
    intent = ack_intent(promised=hostile)
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
    [receipt] = rig.receipts
    assert (receipt.data.template, receipt.data.acknowledgement) == (
        "acknowledgement_enquiry",
        True,
    )
    assert receipt.data.status is DeliveryStatus.DELIVERED


async def test_complaint_is_not_acknowledged_on_classification() -> None:
    rig = Rig()
    await rig.on_classified(classified(Kind.COMPLAINT))
    assert rig.sms.sent == []
    assert rig.publisher.events == []


async def test_no_phone_on_file_gives_a_failed_no_contact_receipt() -> None:
    rig = Rig(phones={})
    await rig.on_sla(sla_set())
    assert rig.sms.calls == 0
    [receipt] = rig.receipts
    assert receipt.data.status is DeliveryStatus.FAILED
    assert receipt.data.reason == "no_contact"
    assert receipt.data.attempts == 0
    assert rig.dead_letters == []


async def test_breach_alerts_each_staff_audience_by_webhook() -> None:
    rig = Rig()
    await rig.on_sla(sla_alert(SlaEventKind.BREACHED))
    assert rig.sms.sent == []
    assert sorted(m.audience for m in rig.webhook.sent) == ["handler", "team_lead"]
    assert sorted(m.recipient for m in rig.webhook.sent) == ["handler-desk", "team-lead-desk"]
    assert all(m.template == "staff_breached" and CID in m.body for m in rig.webhook.sent)
    assert {r.data.audience for r in rig.receipts} == {Audience.HANDLER, Audience.TEAM_LEAD}


async def test_customer_on_a_resolution_breach_gets_a_delay_notice_not_a_staff_alert() -> None:
    rig = Rig()
    breach = sla_alert(
        SlaEventKind.BREACHED,
        clock=ClockName.RESOLUTION,
        audiences=[Audience.HANDLER, Audience.TEAM_LEAD, Audience.CUSTOMER],
    )
    await rig.on_sla(breach)
    [notice] = rig.sms.sent
    assert notice.template == "customer_delay"
    assert "处理结果答复" in notice.body  # which promise was missed, in words
    assert "1个工作日内" in notice.body  # what happens next
    assert len(rig.webhook.sent) == 2


async def test_p1_classification_tells_leadership_at_once_and_an_upgrade_does_not_repeat_it() -> (
    None
):
    rig = Rig()
    await rig.on_classified(classified(Kind.COMPLAINT, severity=Severity.P1))
    upgraded = sla_alert(
        SlaEventKind.UPGRADED,
        audiences=[Audience.HANDLER],
        severity=Severity.P1,
        previous=Severity.P2,
    )
    await rig.on_sla(upgraded)
    leadership = [m for m in rig.webhook.sent if m.audience == "leadership"]
    assert [m.template for m in leadership] == ["staff_major"]
    assert [m.template for m in rig.webhook.sent if m.audience == "handler"] == ["staff_upgraded"]


async def test_upgrade_to_p1_of_an_earlier_case_tells_leadership() -> None:
    rig = Rig()
    await rig.on_sla(
        sla_alert(SlaEventKind.UPGRADED, audiences=[], severity=Severity.P1, previous=Severity.P2)
    )
    assert [(m.audience, m.template) for m in rig.webhook.sent] == [("leadership", "staff_major")]


@pytest.mark.parametrize(
    ("flag", "audience", "template"),
    [
        (FlagName.MEDIA, "media_contact", "staff_media"),
        (FlagName.SAFETY, "security", "staff_safety"),
    ],
)
async def test_flags_reach_media_contact_and_security(
    flag: FlagName, audience: str, template: str
) -> None:
    rig = Rig()
    await rig.on_classified(classified(Kind.COMPLAINT, severity=Severity.P2, flags=[flag]))
    assert [(m.audience, m.template) for m in rig.webhook.sent] == [(audience, template)]
    assert rig.sms.sent == []


async def test_out_of_scope_report_goes_to_management_and_the_customer_is_told() -> None:
    rig = Rig()
    await rig.on_classified(classified(Kind.OUT_OF_SCOPE, reasons=["kind.staff_fraud_report"]))
    assert [(m.audience, m.template) for m in rig.webhook.sent] == [
        ("management", "staff_out_of_scope")
    ]
    assert [m.template for m in rig.sms.sent] == ["acknowledgement_routed"]


async def test_a_report_of_fraud_by_others_also_reaches_the_anti_fraud_desk() -> None:
    rig = Rig()
    await rig.on_classified(classified(Kind.OUT_OF_SCOPE, reasons=["kind.fraud_report"]))
    assert sorted((m.recipient, m.template) for m in rig.webhook.sent) == [
        ("anti-fraud-desk", "staff_fraud_report"),
        ("management-office", "staff_out_of_scope"),
    ]
    assert [m.template for m in rig.sms.sent] == ["acknowledgement_routed"]


def test_every_explained_by_names_a_rule_of_the_same_packs_classifier() -> None:
    """A renamed classifier rule must not silently stop a notifier rule from firing."""
    for pack in sorted(POLICIES.iterdir()):
        notifier, classifier = pack / "notifier.yaml", pack / "classifier.yaml"
        if not notifier.exists():
            continue
        named = {
            rule_id
            for rule in yaml.safe_load(notifier.read_text(encoding="utf-8")).get("rules", [])
            for rule_id in rule.get("explained_by", [])
        }
        text = classifier.read_text(encoding="utf-8") if classifier.exists() else ""
        ids = set(re.findall(r"^\s*-?\s*id:\s*([\w.]+)", text, flags=re.MULTILINE))
        assert named <= ids, f"{pack.name}: {sorted(named - ids)} are no classifier rule"


async def test_assignment_tells_the_assigned_handler_and_later_alerts_follow_the_case() -> None:
    rig = Rig()
    await rig.on_lifecycle(
        state_changed(LifecycleAction.ASSIGNED, assignee="h-0042", department="network")
    )
    [assigned] = rig.webhook.sent
    assert (assigned.recipient, assigned.template) == ("network-handler-desk", "staff_assigned")
    assert "network" in assigned.body
    await rig.on_sla(sla_alert(SlaEventKind.WARNED, threshold=80, audiences=[Audience.HANDLER]))
    assert rig.webhook.sent[-1].recipient == "network-handler-desk"


async def test_resolution_sends_the_customer_the_result() -> None:
    rig = Rig()
    await rig.on_lifecycle(state_changed(LifecycleAction.RESOLVED, to_state=CaseState.RESOLVED))
    [result] = rig.sms.sent
    assert result.template == "customer_result"
    assert CID in result.body


async def test_a_member_resolved_by_its_incident_close_gets_no_second_result() -> None:
    rig = Rig()
    event = state_changed(LifecycleAction.RESOLVED, to_state=CaseState.RESOLVED)
    by_incident = event.model_copy(
        update={"data": event.data.model_copy(update={"actor": "incident:inc-1"})}
    )
    await rig.on_lifecycle(by_incident)
    assert rig.sms.sent == []  # the incident's restoration notice told the customer


async def test_deadline_extension_sends_a_delay_notice_naming_the_clock() -> None:
    rig = Rig()
    await rig.on_lifecycle(
        state_changed(LifecycleAction.DEADLINE_EXTENDED, clock=ClockName.RESOLUTION)
    )
    [notice] = rig.sms.sent
    assert notice.template == "customer_extended"
    assert "处理结果答复时限已依规延长" in notice.body
    assert "需进一步调查核实" in notice.body  # why, when the event gives no reason


async def test_lifecycle_requests_and_refusals_are_skipped_without_rejection() -> None:
    rig = Rig()
    await rig.on_lifecycle(
        action_taken(LifecycleAction.RESOLVED), action_rejected(LifecycleAction.RESOLVED)
    )
    assert rig.sms.calls == 0
    assert rig.webhook.calls == 0
    assert rig.publisher.events == []


async def test_invalid_events_are_rejected() -> None:
    rig = Rig()
    bad = Inbound(Topic.SLA.value, 0, 1, None, b'{"type": "nope"}', 0)
    rejections = await deliver(SLA, rig.notifier.on_sla, [bad])
    assert [(r.reason, r.message) for r in rejections] == [("invalid_event", bad)]
    bad_lifecycle = Inbound(Topic.LIFECYCLE.value, 0, 2, None, b"{}", 0)
    assert [
        r.reason for r in await deliver(LIFECYCLE, rig.notifier.on_lifecycle, [bad_lifecycle])
    ] == ["invalid_event"]
    assert rig.sms.calls == 0


async def test_stale_claim_of_a_crashed_sender_is_sent_again() -> None:
    rig = Rig()
    intent = ack_intent()
    delivery = Delivery(intent.key, intent, Recipient("customer", "sms", PHONE, "masked"))
    now = rig.clock.now()
    # A sender claimed the key and died before completing it.
    assert await rig.log.claim([delivery], now=now, lease_until=now + timedelta(minutes=2))
    await rig.on_sla(sla_set())
    assert rig.sms.sent == []
    rig.clock.advance(timedelta(minutes=3))
    await rig.on_sla(sla_set())
    assert len(rig.sms.sent) == 1
    assert rig.receipts[0].data.notification_id == intent.key


async def test_receipt_survives_a_failed_publish() -> None:
    rig = Rig()
    rig.publisher.failures = 1
    with pytest.raises(TimeoutError):
        await rig.on_sla(sla_set())
    await rig.on_sla(sla_set())
    assert len(rig.sms.sent) == 1
    assert [r.data.status for r in rig.receipts] == [DeliveryStatus.DELIVERED]


async def test_customer_without_phone_is_reached_by_email_when_configured() -> None:
    email = FakeChannel("email")
    rig = Rig(phones={}, emails={CID: "zhang.wei@example.com"})
    rig.sender.channels = {"sms": rig.sms, "webhook": rig.webhook, "email": email}
    await rig.on_sla(sla_set())
    [message] = email.sent
    assert message.address == "zhang.wei@example.com"
    assert rig.receipts[0].data.recipient == "z***@example.com"


async def test_nobody_in_the_directory_falls_back_to_the_duty_webhook() -> None:
    rig = Rig(directory=[])
    await rig.on_sla(sla_alert(SlaEventKind.BREACHED))
    assert sorted(m.recipient for m in rig.webhook.sent) == ["ops-duty", "ops-duty"]
    assert sorted(r.data.recipient or "" for r in rig.receipts) == [
        "handler:ops-duty",
        "team_lead:ops-duty",
    ]


async def test_without_any_staff_channel_the_alert_fails_visibly() -> None:
    rig = Rig(directory=[], channels={"sms": FakeChannel("sms")})
    await rig.on_sla(sla_alert(SlaEventKind.BREACHED, audiences=[Audience.MANAGER]))
    [receipt] = rig.receipts
    assert (receipt.data.status, receipt.data.reason) == (DeliveryStatus.FAILED, "no_recipient")
