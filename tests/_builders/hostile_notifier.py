"""The notifier in the hostile-topic suite: the classified, SLA, lifecycle and incidents topics
(tests/notifier/corpus/events.jsonl)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar, cast

import pytest

from contracts import (
    Audience,
    ClockName,
    Event,
    FlagName,
    Kind,
    LifecycleAction,
    Severity,
    SlaEventKind,
    Topic,
)
from notifier import app as notifier_app
from notifier.adapters.memory import InMemoryContactBook, InMemoryNotificationLog
from notifier.adapters.mongo import MongoNotificationLog
from notifier.adapters.mongo_documents import claim_document
from notifier.app import Ports, create_app, load_directory, load_policy
from notifier.channels.base import Message
from notifier.settings import NotifierSettings
from servicekit.clock import FakeClock
from servicekit.mongo import check_document
from tests._builders.hostile import Entry, RecordingDatabase, ServiceOnBroker, check_write, entries
from tests._builders.topic_target import TopicTarget
from tests.notifier.rig import (
    NOW,
    PHONE,
    POLICIES,
    FakeChannel,
    action_rejected,
    action_taken,
    classified,
    incident_opened,
    sla_alert,
    sla_set,
    state_changed,
)

CORPUS = Path(__file__).resolve().parents[1] / "notifier" / "corpus" / "events.jsonl"
HOSTILE = "CP20261124-0000000099"
GOOD = ("CP20261124-0000000001", "CP20261124-0000000002")
TOPICS = {
    "classified": Topic.CLASSIFIED,
    "sla": Topic.SLA,
    "lifecycle": Topic.LIFECYCLE,
    "incidents": Topic.INCIDENTS,
}


def _resolved(cid: str) -> Event:
    return state_changed(LifecycleAction.RESOLVED, cid=cid, to_state="resolved", action_id="r-1")  # type: ignore[arg-type]


GOOD_EVENTS: dict[str, Callable[[str], Event]] = {
    "classified": lambda cid: classified(Kind.ENQUIRY, cid=cid),
    "sla": sla_set,
    "lifecycle": _resolved,
    "incidents": lambda cid: incident_opened([cid]),
}


def _json(event: Event) -> Any:
    return json.loads(event.model_dump_json())


def _bases() -> dict[str, Any]:
    escalated = sla_alert(
        SlaEventKind.ESCALATED,
        cid=HOSTILE,
        clock=ClockName.RESOLUTION,
        threshold=150,
        audiences=[Audience.MANAGER],
    )
    assigned = state_changed(
        LifecycleAction.ASSIGNED, cid=HOSTILE, assignee="h-7", department="billing"
    )
    return {
        "enquiry": _json(classified(Kind.ENQUIRY, cid=HOSTILE)),
        "major": _json(classified(Kind.COMPLAINT, cid=HOSTILE, severity=Severity.P1)),
        "media": _json(classified(Kind.COMPLAINT, cid=HOSTILE, flags=[FlagName.MEDIA])),
        "sla_set": _json(sla_set(HOSTILE)),
        "sla_breach": _json(sla_alert(SlaEventKind.BREACHED, cid=HOSTILE)),
        "sla_escalated": _json(escalated),
        "resolved": _json(_resolved(HOSTILE)),
        "assigned": _json(assigned),
        "request": _json(action_taken(LifecycleAction.RESOLVED, cid=HOSTILE)),
        "refusal": _json(action_rejected(LifecycleAction.RESOLVED, cid=HOSTILE)),
    }


SHIPPED = NotifierSettings(policy_dir=POLICIES)
POLICY, DIRECTORY = load_policy(SHIPPED), load_directory(SHIPPED)


@dataclass
class Notifier:
    """The notifier app on a test broker: its log and the fake channels it sent on."""

    rig: ServiceOnBroker
    log: InMemoryNotificationLog
    channels: list[FakeChannel]

    def sent(self) -> list[Message]:
        """Every message any channel sent."""
        return [m for channel in self.channels for m in channel.sent]


class NotifierTarget(TopicTarget):
    """Events that notify: dead-lettered, told with every value as inert text, or told no one."""

    service = "notifier"
    bases: ClassVar[Mapping[str, Any]] = _bases()

    def entries(self) -> Sequence[Entry]:
        return entries(CORPUS)

    def topic(self, entry: Entry) -> Topic:
        return TOPICS[entry["topic"]]

    def good(self, entry: Entry) -> tuple[bytes, bytes]:
        first, second = (
            GOOD_EVENTS[entry["topic"]](cid).model_dump_json().encode() for cid in GOOD
        )
        return first, second

    @asynccontextmanager
    async def running(self, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Notifier]:
        # The shipped pack, read once (tests/notifier/test_hostile_policy.py reads hostile ones).
        monkeypatch.setattr(notifier_app, "load_policy", lambda _: POLICY)
        monkeypatch.setattr(notifier_app, "load_directory", lambda _: DIRECTORY)
        settings = NotifierSettings(policy_dir=POLICIES)
        settings.kafka.create_topics = False
        sms, webhook = FakeChannel("sms"), FakeChannel("webhook")
        log = InMemoryNotificationLog()
        ports = Ports(
            log=log,
            contacts=InMemoryContactBook(dict.fromkeys((*GOOD, HOSTILE), PHONE)),
            clock=FakeClock(NOW + timedelta(seconds=2)),
            channels={"sms": sms, "webhook": webhook},
        )
        app = create_app(settings, ports)
        async with ServiceOnBroker(app, collect=[Topic.NOTIFICATION_SENT]) as rig:
            yield Notifier(rig, log, [sms, webhook])

    async def verdict(self, service: Notifier, entry: Entry, hostile: bytes) -> None:
        told = {m.complaint_id for m in service.sent()}
        assert set(GOOD) <= told, "a good event of the batch told no one"
        mine = [m for m in service.sent() if m.complaint_id == HOSTILE]
        if entry["expect"] in {"dead_letter", "skipped"}:
            assert mine == []
            return
        assert entry["expect"] == "notified"
        assert mine
        for text in entry["contains"]:
            assert any(text in m.body for m in mine), f"{text!r} was not printed as text"
        # The HTML part goes out by e-mail only (these fakes are SMS and webhook): rendered
        # here as the e-mail of each of its deliveries would carry it.
        pages = [
            POLICY.templates.render(r.delivery.intent.template, r.delivery.intent.context).html
            for r in service.log.records.values()
            if r.delivery.intent.complaint_id == HOSTILE
        ]
        assert pages
        for text in entry["html"]:
            assert any(text in page for page in pages), f"{text!r} was not escaped in the HTML"
            assert all("<script>" not in page and "<img" not in page for page in pages)
        await _stored_inert(service.log)


async def _stored_inert(log: InMemoryNotificationLog) -> None:
    """The claims and outcomes the Mongo log would store hold no operator or path."""
    records = [r for r in log.records.values() if r.delivery.intent.complaint_id == HOSTILE]
    for record in records:
        check_document(claim_document(record.delivery, now=NOW, lease_until=NOW))
    db = RecordingDatabase()
    outcomes = [r.outcome for r in records if r.outcome is not None]
    await MongoNotificationLog(cast(Any, db)).complete(outcomes, now=NOW)
    for write in db.writes:
        check_write(write)
