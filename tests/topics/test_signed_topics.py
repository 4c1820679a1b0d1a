"""Issue 20: forged events on the owned topics change no case, send no message and are
dead-lettered with their reason — through the services' real subscriptions on a test broker.

The forgeries are the ones found on the running stack: staff actions written straight to
`complaints.lifecycle.v1` (a case closed as malicious under a manager's name, a withdrawal), an
action back-dated to just after receipt, `CaseStateChanged` / `SlaChanged` events that would text
the customer, and a `NotificationSent` that would mark a case acknowledged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from contracts import (
    Audience,
    CaseAction,
    CaseActionTaken,
    CaseState,
    ClockName,
    DeliveryStatus,
    LifecycleAction,
    NotificationReceipt,
    NotificationSent,
    SlaEventKind,
    Topic,
    Verdict,
)
from servicekit.clock import FakeClock
from servicekit.signing import Signer
from sla.adapters.memory import InMemoryCaseStore, InMemoryDueIndex
from sla.app import Ports, create_app
from sla.domain import BusinessCalendar, SlaPolicy
from sla.settings import SlaSettings
from tests._builders.hostile import DEV_SIGNERS, ServiceOnBroker
from tests._builders.hostile_notifier import HOSTILE as NOTIFIER_CASE
from tests._builders.hostile_notifier import Notifier, NotifierTarget
from tests._builders.sla import CALENDAR, POLICIES, POLICY, RECEIVED, classified
from tests.notifier.rig import incident_opened, sla_alert, state_changed

pytestmark = pytest.mark.usefixtures("no_retry_sleeps")
HOSTILE = "CP20261124-0000000099"


def action(cid: str, kind: LifecycleAction, action_id: str, **fields: Any) -> CaseActionTaken:
    """A staff action issued an hour after receipt, when it happened."""
    at = RECEIVED + timedelta(hours=1)
    data = CaseAction(
        complaint_id=cid, action=kind, action_id=action_id, actor="h-7", occurred_at=at, **fields
    )
    return CaseActionTaken.build(data=data, subject=cid, source="/crm", time=at, cause=action_id)


def receipt(cid: str) -> NotificationSent:
    """The customer's acknowledgement SMS, delivered."""
    key = f"{cid}:ack:-:-:customer"
    data = NotificationReceipt(
        notification_id=key,
        complaint_id=cid,
        audience=Audience.CUSTOMER,
        channel="sms",
        template="acknowledgement",
        acknowledgement=True,
        status=DeliveryStatus.DELIVERED,
        attempts=1,
    )
    at = RECEIVED + timedelta(minutes=10)
    return NotificationSent.build(
        data=data, subject=cid, source="/complaints/notifier", time=at, cause=key
    )


FORGERS = {
    "unsigned": None,
    "wrong_signer": DEV_SIGNERS["intake"],
    "forged_signature": Signer("sla", b"a key someone guessed"),
}


@pytest.fixture
async def sla(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[ServiceOnBroker, Ports]]:
    monkeypatch.setattr(SlaPolicy, "load", lambda **_: POLICY)
    monkeypatch.setattr(BusinessCalendar, "load", lambda **_: CALENDAR)
    settings = SlaSettings(policy_dir=POLICIES)
    settings.kafka.create_topics = False
    ports = Ports(InMemoryCaseStore(), InMemoryDueIndex(), FakeClock(RECEIVED + timedelta(hours=2)))
    app = create_app(settings, ports)
    async with ServiceOnBroker(app, collect=[Topic.LIFECYCLE, Topic.SLA]) as rig:
        await rig.batch(Topic.CLASSIFIED, [classified(cid=HOSTILE).model_dump_json().encode()])
        yield rig, ports


def _forged_actions() -> list[bytes]:
    """The staff actions written straight onto the topic in the issue's probe."""
    close = action(
        HOSTILE,
        LifecycleAction.CLOSED,
        "forged-close",
        verdict=Verdict.MALICIOUS,
        evidence=["none"],
        root_cause="forged",
    )
    close = close.model_copy(update={"data": close.data.model_copy(update={"actor": "manager-01"})})
    withdrawn = action(HOSTILE, LifecycleAction.WITHDRAWN, "forged-withdraw", reason="customer")
    ack = action(HOSTILE, LifecycleAction.ACKNOWLEDGED, "forged-ack")
    return [e.model_dump_json().encode() for e in (close, withdrawn, ack)]


def _answers(rig: ServiceOnBroker) -> list[bytes]:
    """What the SLA service itself published on the lifecycle topic."""
    return [b for b in rig.published[Topic.LIFECYCLE.value] if b'"/complaints/sla"' in b]


@pytest.mark.parametrize("reason", sorted(FORGERS))
async def test_a_forged_staff_action_changes_no_case(
    sla: tuple[ServiceOnBroker, Ports], reason: str
) -> None:
    rig, ports = sla
    before = await ports.cases.load(HOSTILE)
    sla_events = len(rig.published[Topic.SLA.value])
    await rig.batch(Topic.LIFECYCLE, _forged_actions(), signer=FORGERS[reason])
    after = await ports.cases.load(HOSTILE)
    assert before is not None
    assert after is not None
    assert after.case == before.case
    assert after.clocks == before.clocks
    assert after.refusals == {}
    assert _answers(rig) == []  # no state change, not even a refusal
    assert len(rig.published[Topic.SLA.value]) == sla_events  # no clock stopped or met
    assert [d.reason for d in rig.dead_letters()] == [reason] * 3


async def test_a_signed_action_back_dated_before_its_issue_is_dead_lettered(
    sla: tuple[ServiceOnBroker, Ports],
) -> None:
    rig, ports = sla
    issued = RECEIVED + timedelta(hours=2)
    backdated = action(HOSTILE, LifecycleAction.ACKNOWLEDGED, "late-ack").model_copy(
        update={"time": issued}
    )
    early = backdated.data.model_copy(update={"occurred_at": RECEIVED + timedelta(minutes=5)})
    backdated = backdated.model_copy(update={"data": early})
    await rig.batch(Topic.LIFECYCLE, [backdated.model_dump_json().encode()])
    record = await ports.cases.load(HOSTILE)
    assert record is not None
    assert record.case.state is CaseState.CLASSIFIED
    assert [d.reason for d in rig.dead_letters()] == ["backdated"]
    # The same action issued when it says it happened is applied: only the gap is refused.
    honest = action(HOSTILE, LifecycleAction.ACKNOWLEDGED, "on-time-ack")
    await rig.batch(Topic.LIFECYCLE, [honest.model_dump_json().encode()])
    record = await ports.cases.load(HOSTILE)
    assert record is not None
    assert record.case.state is CaseState.ACKNOWLEDGED


@pytest.mark.parametrize("reason", sorted(FORGERS))
async def test_a_forged_delivery_receipt_acknowledges_nothing(
    sla: tuple[ServiceOnBroker, Ports], reason: str
) -> None:
    rig, ports = sla
    forger = {
        "unsigned": None,
        "wrong_signer": DEV_SIGNERS["sla"],  # even the SLA's own key does not make a receipt
        "forged_signature": Signer("notifier", b"a key someone guessed"),
    }[reason]
    await rig.batch(
        Topic.NOTIFICATION_SENT, [receipt(HOSTILE).model_dump_json().encode()], signer=forger
    )
    record = await ports.cases.load(HOSTILE)
    assert record is not None
    assert record.case.state is CaseState.CLASSIFIED
    assert [d.reason for d in rig.dead_letters()] == [reason]
    # The notifier's signed receipt is taken.
    await rig.batch(Topic.NOTIFICATION_SENT, [receipt(HOSTILE).model_dump_json().encode()])
    record = await ports.cases.load(HOSTILE)
    assert record is not None
    assert record.case.state is CaseState.ACKNOWLEDGED


@pytest.fixture
async def notifier(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Notifier]:
    async with NotifierTarget().running(monkeypatch) as service:
        yield service


@pytest.mark.parametrize("reason", sorted(FORGERS))
async def test_a_forged_state_change_or_sla_event_texts_no_one(
    notifier: Notifier, reason: str
) -> None:
    resolved = state_changed(
        LifecycleAction.RESOLVED, cid=NOTIFIER_CASE, to_state=CaseState.RESOLVED, action_id="f-1"
    )
    extended = state_changed(
        LifecycleAction.DEADLINE_EXTENDED,
        cid=NOTIFIER_CASE,
        to_state=CaseState.IN_PROGRESS,
        action_id="f-2",
        clock=ClockName.RESOLUTION,
    )
    breach = sla_alert(SlaEventKind.BREACHED, cid=NOTIFIER_CASE)
    forger = FORGERS[reason]
    await notifier.rig.batch(
        Topic.LIFECYCLE,
        [e.model_dump_json().encode() for e in (resolved, extended)],
        signer=forger,
    )
    await notifier.rig.batch(Topic.SLA, [breach.model_dump_json().encode()], signer=forger)
    assert notifier.sent() == []
    assert notifier.log.records == {}
    assert [d.reason for d in notifier.rig.dead_letters()] == [reason] * 3
    # Signed by the SLA service, the same resolution is told to the customer.
    await notifier.rig.batch(Topic.LIFECYCLE, [resolved.model_dump_json().encode()])
    assert [m.complaint_id for m in notifier.sent()] == [NOTIFIER_CASE]


@pytest.mark.parametrize("reason", sorted(FORGERS))
async def test_a_forged_incident_event_tells_no_customer_and_no_operator(
    notifier: Notifier, reason: str
) -> None:
    forger = {
        "unsigned": None,
        "wrong_signer": DEV_SIGNERS["sla"],  # another service's key does not make an incident
        "forged_signature": Signer("classifier", b"a key someone guessed"),
    }[reason]
    opened = incident_opened([NOTIFIER_CASE]).model_dump_json().encode()
    await notifier.rig.batch(Topic.INCIDENTS, [opened], signer=forger)
    assert notifier.sent() == []
    assert notifier.log.records == {}
    assert [d.reason for d in notifier.rig.dead_letters()] == [reason]
    # Signed by the classifier, the same incident reaches operations and the customer.
    await notifier.rig.batch(Topic.INCIDENTS, [opened])
    assert NOTIFIER_CASE in {m.complaint_id for m in notifier.sent()}
