"""The SLA service in the hostile-topic suite: the classified, receipts, lifecycle and incidents
topics (tests/sla/corpus/classified.jsonl, receipts.jsonl, lifecycle.jsonl, incidents.jsonl).

An entry is dead-lettered with its reason, refused with a `CaseActionRejected` (kept with the
case), applied, or skipped, as it says; the good messages are handled either way, and what the
Mongo adapter would write for the case holds no operator or path.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar, cast

import pytest
from pydantic import TypeAdapter

from contracts import (
    ActionRejection,
    CaseAction,
    CaseActionRejected,
    CaseActionTaken,
    CaseState,
    CaseStateChanged,
    CaseTransition,
    Event,
    LifecycleAction,
    LifecycleEvent,
    NotificationSent,
    Severity,
    SlaChanged,
    Topic,
)
from servicekit.clock import FakeClock
from servicekit.mongo import check_document, check_update
from sla.adapters.case_documents import case_document, change_update
from sla.adapters.memory import InMemoryCaseStore, InMemoryDueIndex
from sla.adapters.mongo_cases import MongoCaseStore
from sla.app import Ports, create_app
from sla.casework.receipts import acknowledges
from sla.domain import BusinessCalendar, SlaPolicy
from sla.settings import SlaSettings
from tests._builders.hostile import Entry, RecordingDatabase, ServiceOnBroker, check_write, entries
from tests._builders.sla import CALENDAR, POLICIES, POLICY, RECEIVED, classified, incident_closed
from tests._builders.sla import receipt as sla_receipt
from tests._builders.topic_target import TopicTarget

CORPUS = Path(__file__).resolve().parents[1] / "sla" / "corpus"
HOSTILE = "CP20261124-0000000099"
GOOD = ("CP20261124-0000000001", "CP20261124-0000000002")
LIFECYCLE: TypeAdapter[Any] = TypeAdapter(LifecycleEvent)
SLA = TypeAdapter(SlaChanged)
CLOSED_AT = RECEIVED + timedelta(hours=2)
TOPICS = {
    "classified": Topic.CLASSIFIED,
    "receipts": Topic.NOTIFICATION_SENT,
    "lifecycle": Topic.LIFECYCLE,
    "incidents": Topic.INCIDENTS,
}


def action(cid: str, kind: LifecycleAction, action_id: str, **fields: Any) -> CaseActionTaken:
    """A staff action on `cid` an hour after receipt."""
    data = CaseAction(
        complaint_id=cid,
        action=kind,
        action_id=action_id,
        actor="handler-7",
        occurred_at=RECEIVED + timedelta(hours=1),
        **fields,
    )
    return CaseActionTaken.build(
        data=data, subject=cid, source="/crm", time=data.occurred_at, cause=action_id
    )


def receipt(cid: str) -> NotificationSent:
    """CID's acknowledgement, delivered ten minutes after receipt."""
    return sla_receipt(cid=cid, at=RECEIVED + timedelta(minutes=10))


GOOD_EVENTS: dict[str, Callable[[int, str], Event]] = {
    "classified": lambda _, cid: classified(cid=cid),
    "receipts": lambda _, cid: receipt(cid),
    "lifecycle": lambda _, cid: action(cid, LifecycleAction.ACKNOWLEDGED, f"ack-{cid}"),
    "incidents": lambda n, cid: incident_closed(f"inc-good-000{n}", [cid], at=CLOSED_AT),
}


def _json(event: Event) -> Any:
    return json.loads(event.model_dump_json())


def _bases() -> dict[str, Any]:
    at = RECEIVED + timedelta(hours=1)
    rejected = CaseActionRejected.build(
        data=ActionRejection(
            complaint_id=HOSTILE,
            action=LifecycleAction.RESOLVED,
            action_id="x-1",
            reason="illegal_transition",
            detail="not allowed",
        ),
        subject=HOSTILE,
        source="/complaints/sla",
        time=at,
        cause="x-1@rejected",
    )
    state = CaseStateChanged.build(
        data=CaseTransition(
            complaint_id=HOSTILE,
            action=LifecycleAction.CONTACTED,
            action_id="x-2",
            actor="handler-7",
            occurred_at=at,
            from_state=CaseState.DISPATCHED,
            to_state=CaseState.IN_PROGRESS,
            severity=Severity.P4,
        ),
        subject=HOSTILE,
        source="/complaints/sla",
        time=at,
        cause="x-2@accepted",
    )
    assigned = action(
        HOSTILE, LifecycleAction.ASSIGNED, "h-1", assignee="handler-7", department="billing"
    )
    return {
        "classified": _json(classified(cid=HOSTILE)),
        "receipt": _json(receipt(HOSTILE)),
        "action": _json(assigned),
        "rejected": _json(rejected),
        "state": _json(state),
        "incident": _json(incident_closed("inc-hostile-0001", [HOSTILE], at=CLOSED_AT)),
    }


BASES = _bases()


@dataclass
class Sla:
    """The SLA app on a test broker and its in-memory case store."""

    rig: ServiceOnBroker
    cases: InMemoryCaseStore

    def answers(self) -> list[Any]:
        """Everything published on the lifecycle topic."""
        return self.rig.events(Topic.LIFECYCLE, LIFECYCLE)

    async def classify(self, *cids: str) -> None:
        """One batch of P4 decisions: the cases exist afterwards."""
        await self.rig.batch(
            Topic.CLASSIFIED, [classified(cid=cid).model_dump_json().encode() for cid in cids]
        )

    async def stored_inert(self, cid: str) -> None:
        """The case as the Mongo adapter would store it, and every refusal write, hold no
        operator and no path."""
        record = self.cases.records.get(cid)
        db = RecordingDatabase()
        store = MongoCaseStore(cast(Any, db))
        if record is not None:
            check_document(case_document(record))
            for change in self.cases.changes.get(cid, []):
                check_update(change_update(change))
            for action_id, (reason, detail) in record.refusals.items():
                await store.record_refusal(cid, action_id, reason=reason, detail=detail)
        for write in db.writes:
            check_write(write)


@asynccontextmanager
async def running_sla(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Sla]:
    """The SLA app on in-memory ports and a test broker (the shipped pack, parsed once)."""
    # tests/sla/test_hostile_policy.py reads hostile packs; these tests need only the shipped one.
    monkeypatch.setattr(SlaPolicy, "load", lambda **_: POLICY)
    monkeypatch.setattr(BusinessCalendar, "load", lambda **_: CALENDAR)
    settings = SlaSettings(policy_dir=POLICIES)
    settings.kafka.create_topics = False
    cases = InMemoryCaseStore()
    clock = FakeClock(RECEIVED + timedelta(seconds=5))
    app = create_app(settings, Ports(cases, InMemoryDueIndex(), clock))
    async with ServiceOnBroker(app, collect=[Topic.LIFECYCLE, Topic.SLA]) as rig:
        yield Sla(rig, cases)


class SlaTarget(TopicTarget):
    """Decisions, receipts, staff actions and incident closes: each dead-lettered or inert."""

    service = "sla"
    bases: ClassVar[Mapping[str, Any]] = BASES

    def entries(self) -> Sequence[Entry]:
        return [
            {**entry, "id": f"{name}-{entry['id']}", "topic": name}
            for name in TOPICS
            for entry in entries(CORPUS / f"{name}.jsonl")
        ]

    def topic(self, entry: Entry) -> Topic:
        return TOPICS[entry["topic"]]

    def good(self, entry: Entry) -> tuple[bytes, bytes]:
        make = GOOD_EVENTS[entry["topic"]]
        first, second = (
            make(n, cid).model_dump_json().encode() for n, cid in enumerate(GOOD, start=1)
        )
        return first, second

    def running(self, monkeypatch: pytest.MonkeyPatch) -> AbstractAsyncContextManager[Sla]:
        return running_sla(monkeypatch)

    async def prepare(self, service: Sla, entry: Entry) -> None:
        if entry["topic"] != "classified":
            await service.classify(*GOOD, HOSTILE)

    async def verdict(self, service: Sla, entry: Entry, hostile: bytes) -> None:
        await VERDICTS[entry["topic"]](service, entry, hostile)
        await service.stored_inert(HOSTILE)


async def _classified(sla: Sla, entry: Entry, hostile: bytes) -> None:
    clocks_set = {e.data.complaint_id for e in sla.rig.events(Topic.SLA, SLA)}
    assert set(GOOD) <= clocks_set, "a good complaint of the batch got no clocks"
    if entry["expect"] == "dead_letter":
        assert HOSTILE not in sla.cases.records
        return
    assert entry["expect"] == "handled"
    assert HOSTILE in sla.cases.records


async def _receipts(sla: Sla, entry: Entry, hostile: bytes) -> None:
    for cid in GOOD:
        assert sla.cases.state(cid) is CaseState.ACKNOWLEDGED
    if entry["expect"] == "dead_letter":
        assert sla.cases.state(HOSTILE) is CaseState.CLASSIFIED
        return
    assert entry["expect"] == "handled"
    sent = NotificationSent.model_validate_json(hostile)
    if sent.data.complaint_id == HOSTILE:  # acknowledged if, and only if, its typed field says so
        expected = CaseState.ACKNOWLEDGED if acknowledges(sent) else CaseState.CLASSIFIED
        assert sla.cases.state(HOSTILE) is expected
    await sla.stored_inert(sent.data.complaint_id)


async def _lifecycle(sla: Sla, entry: Entry, hostile: bytes) -> None:
    for cid in GOOD:
        assert sla.cases.state(cid) is CaseState.ACKNOWLEDGED
    answers = [
        a
        for a in sla.answers()
        if isinstance(a, CaseActionRejected | CaseStateChanged)
        and a.data.complaint_id not in GOOD
        and a.source == "/complaints/sla"
        and a.id not in {BASES["rejected"]["id"], BASES["state"]["id"]}
    ]
    record = sla.cases.records[HOSTILE]
    expect = entry["expect"]
    if expect in {"dead_letter", "skipped"}:
        assert answers == []
        assert record.case.state is CaseState.CLASSIFIED
        assert record.case.history == ()
    elif expect == "refused":
        sent = CaseActionTaken.model_validate_json(hostile).data
        [refusal] = answers
        assert isinstance(refusal, CaseActionRejected)
        assert (refusal.data.action_id, refusal.data.reason) == (sent.action_id, entry["reason"])
        assert len(refusal.data.detail) <= 200
        assert record.case.history == ()
        if sent.complaint_id == HOSTILE:
            assert record.refusals[sent.action_id][0] == entry["reason"]
    else:
        assert expect == "applied"
        sent = CaseActionTaken.model_validate_json(hostile).data
        [moved] = answers
        assert isinstance(moved, CaseStateChanged)
        assert moved.data.action_id == sent.action_id
        assert [h.action_id for h in record.case.history] == [sent.action_id]
        assert (record.assignee, record.department) == (sent.assignee, sent.department)


async def _incidents(sla: Sla, entry: Entry, hostile: bytes) -> None:
    for cid in GOOD:
        assert sla.cases.state(cid) is CaseState.RESOLVED, "a good close resolved no member"
    # Nothing of the hostile entries names a case that resolves: the hostile case stays open.
    assert sla.cases.state(HOSTILE) is CaseState.CLASSIFIED


VERDICTS = {
    "classified": _classified,
    "receipts": _receipts,
    "lifecycle": _lifecycle,
    "incidents": _incidents,
}
