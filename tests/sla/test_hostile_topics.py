"""Hostile input on the SLA service's topics, through its real subscriptions on a test broker.

`complaints.classified.v1` (tests/sla/corpus/classified.jsonl), `notifications.sent.v1`
(receipts.jsonl), `complaints.lifecycle.v1` (lifecycle.jsonl) and `complaints.incidents.v1`
(incidents.jsonl): each entry travels in one
consumed batch between two good messages. It is dead-lettered with its reason, refused with a
`CaseActionRejected` (kept with the case), applied, or skipped, as the entry says; the good
messages are handled either way, and what the Mongo adapter would write for the case holds no
operator or path.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

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
    LifecycleAction,
    LifecycleEvent,
    NotificationSent,
    Severity,
    SlaChanged,
    Topic,
)
from servicekit.clock import FakeClock
from servicekit.mongo import check_document, check_update
from sla.adapters.case_documents import case_document, change_update, field_key
from sla.adapters.memory import InMemoryCaseStore, InMemoryDueIndex
from sla.adapters.mongo_cases import MongoCaseStore
from sla.app import Ports, create_app
from sla.casework.receipts import acknowledges
from sla.clocks.sheet import ClockEntry, as_deadline
from sla.domain import BusinessCalendar, SlaPolicy, extend_deadline
from sla.settings import SlaSettings
from tests._builders.hostile import (
    Entry,
    RecordingDatabase,
    ServiceOnBroker,
    assert_dead_letters,
    check_write,
    corpus,
    payload,
    without_retry_sleeps,
)
from tests._builders.sla import CALENDAR, POLICIES, POLICY, RECEIVED, classified, incident_closed
from tests._builders.sla import receipt as sla_receipt

CORPUS = Path(__file__).parent / "corpus"
HOSTILE = "CP20261124-0000000099"
GOOD = ("CP20261124-0000000001", "CP20261124-0000000002")
LIFECYCLE: TypeAdapter[Any] = TypeAdapter(LifecycleEvent)
SLA = TypeAdapter(SlaChanged)
CLOSED_AT = RECEIVED + timedelta(hours=2)


def action(cid: str, kind: LifecycleAction, action_id: str, **fields: Any) -> CaseActionTaken:
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
        "classified": json.loads(classified(cid=HOSTILE).model_dump_json()),
        "receipt": json.loads(receipt(HOSTILE).model_dump_json()),
        "action": json.loads(assigned.model_dump_json()),
        "rejected": json.loads(rejected.model_dump_json()),
        "state": json.loads(state.model_dump_json()),
        "incident": json.loads(
            incident_closed("inc-hostile-0001", [HOSTILE], at=CLOSED_AT).model_dump_json()
        ),
    }


BASES = _bases()


@dataclass
class Sla:
    rig: ServiceOnBroker
    cases: InMemoryCaseStore

    def answers(self) -> list[Any]:
        return self.rig.events(Topic.LIFECYCLE, LIFECYCLE)

    async def classify(self, *cids: str) -> None:
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


@pytest.fixture
async def sla(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Sla]:
    without_retry_sleeps(monkeypatch)
    # The shipped pack, parsed once for the module (tests/sla/test_hostile_policy.py reads packs).
    monkeypatch.setattr(SlaPolicy, "load", lambda **_: POLICY)
    monkeypatch.setattr(BusinessCalendar, "load", lambda **_: CALENDAR)
    settings = SlaSettings(policy_dir=POLICIES)
    settings.kafka.create_topics = False
    cases = InMemoryCaseStore()
    clock = FakeClock(RECEIVED + timedelta(seconds=5))
    app = create_app(settings, Ports(cases, InMemoryDueIndex(), clock))
    async with ServiceOnBroker(app, collect=[Topic.LIFECYCLE, Topic.SLA]) as rig:
        yield Sla(rig, cases)


@pytest.mark.parametrize("entry", corpus(CORPUS / "classified.jsonl"))
async def test_classified_topic_corpus(sla: Sla, entry: Entry) -> None:
    hostile = payload(entry, BASES)
    good = [classified(cid=cid).model_dump_json().encode() for cid in GOOD]
    await sla.rig.batch(Topic.CLASSIFIED, [good[0], hostile, good[1]])
    assert_dead_letters(entry, hostile, sla.rig.dead_letters())
    clocks_set = {e.data.complaint_id for e in sla.rig.events(Topic.SLA, SLA)}
    assert set(GOOD) <= clocks_set, "a good complaint of the batch got no clocks"
    if entry["expect"] == "dead_letter":
        assert HOSTILE not in sla.cases.records
        return
    assert entry["expect"] == "handled"
    assert HOSTILE in sla.cases.records
    await sla.stored_inert(HOSTILE)


@pytest.mark.parametrize("entry", corpus(CORPUS / "receipts.jsonl"))
async def test_receipts_topic_corpus(sla: Sla, entry: Entry) -> None:
    await sla.classify(*GOOD, HOSTILE)
    hostile = payload(entry, BASES)
    good = [receipt(cid).model_dump_json().encode() for cid in GOOD]
    await sla.rig.batch(Topic.NOTIFICATION_SENT, [good[0], hostile, good[1]])
    assert_dead_letters(entry, hostile, sla.rig.dead_letters())
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


@pytest.mark.parametrize("entry", corpus(CORPUS / "lifecycle.jsonl"))
async def test_lifecycle_topic_corpus(sla: Sla, entry: Entry) -> None:
    await sla.classify(*GOOD, HOSTILE)
    hostile = payload(entry, BASES)
    good = [
        action(cid, LifecycleAction.ACKNOWLEDGED, f"ack-{cid}").model_dump_json().encode()
        for cid in GOOD
    ]
    await sla.rig.batch(Topic.LIFECYCLE, [good[0], hostile, good[1]])
    assert_dead_letters(entry, hostile, sla.rig.dead_letters())
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
    await sla.stored_inert(HOSTILE)


DEFAULTS: dict[str, dict[str, Any]] = {
    "assigned": {"assignee": "handler-7", "department": "billing"},
    "awaiting_customer": {"reason": "waiting for the customer's bill"},
    "resolved": {"result": "refunded the overcharge"},
    "callback_done": {"satisfaction": "satisfied"},
    "closed": {"verdict": "upheld", "root_cause": "billing rule"},
    "reopened": {"reason": "the fault is back"},
    "withdrawn": {"reason": "the customer withdrew"},
    "deadline_extended": {
        "clock": "resolution",
        "extend_by_hours": 8,
        "approver": "manager-01",
        "reason": "needs the vendor",
    },
}
RECEIPT_ACTION = f"receipt:{HOSTILE}:ack:-:-:customer"


def _when(at: float | str) -> datetime:
    return datetime.fromisoformat(at) if isinstance(at, str) else RECEIVED + timedelta(hours=at)


def _step(step: Entry) -> tuple[str, bytes]:
    """A step's action id and bytes: a staff action, or the acknowledgement SMS's receipt."""
    if step.get("receipt"):
        sent = receipt(HOSTILE).model_copy(update={"time": _when(step["at"])})
        return RECEIPT_ACTION, sent.model_dump_json().encode()
    fields = {**DEFAULTS.get(step["action"], {}), **step.get("fields", {})}
    data = {
        "complaint_id": step.get("complaint_id", HOSTILE),
        "action": step["action"],
        "action_id": step["action_id"],
        "actor": "handler-7",
        "occurred_at": _when(step["at"]),
        **{name: value for name, value in fields.items() if value is not None},
    }
    event = CaseActionTaken.build(
        data=CaseAction.model_validate(data),
        subject=data["complaint_id"],
        source="/crm",
        time=data["occurred_at"],  # issued when it happened, as the case API does
        cause=step["action_id"],
    )
    return step["action_id"], event.model_dump_json().encode()


def _resolution(sla: Sla) -> ClockEntry:
    return next(c for c in sla.cases.records[HOSTILE].clocks if c.key == "resolution:1")


def _resolution_due(sla: Sla) -> datetime:
    return _resolution(sla).due_at


@pytest.mark.parametrize("entry", corpus(CORPUS / "lifecycle_sequences.jsonl"))
async def test_lifecycle_sequences(sla: Sla, entry: Entry) -> None:
    """Replayed and out-of-order actions: each is applied once, refused with its reason
    (and the refusal kept with the case), or ignored; the case ends in the entry's state."""
    await sla.classify(HOSTILE)
    due_at_start = _resolution_due(sla)
    steps = [_step(step) for step in entry["steps"]]
    if entry.get("batch"):
        await sla.rig.batch(Topic.LIFECYCLE, [body for _, body in steps])
    else:
        for action_id, body in steps:
            if action_id == RECEIPT_ACTION:
                await sla.rig.batch(Topic.NOTIFICATION_SENT, [body])
            else:
                await sla.rig.batch(Topic.LIFECYCLE, [body])
    assert sla.rig.dead_letters() == []
    # A replayed applied action republishes its stored events under the same ids: count each once.
    answers: list[CaseActionRejected | CaseStateChanged] = []
    for a in sla.answers():
        if isinstance(a, CaseActionRejected) or (
            isinstance(a, CaseStateChanged) and a.id not in {x.id for x in answers}
        ):
            answers.append(a)
    for action_id in dict.fromkeys(action_id for action_id, _ in steps):
        if action_id == RECEIPT_ACTION:
            continue  # a receipt publishes nothing: its effect is checked in the history below
        expected = [
            ("refused", s.get("reason")) if s["expect"] == "refused" else ("applied", None)
            for s, (i, _) in zip(entry["steps"], steps, strict=True)
            if i == action_id and s["expect"] != "ignored"
        ]
        actual = [
            ("refused", a.data.reason) if isinstance(a, CaseActionRejected) else ("applied", None)
            for a in answers
            if a.data.action_id == action_id
        ]
        assert actual == expected, action_id
    record = sla.cases.records[HOSTILE]
    assert record.case.state.value == entry["state"]
    history = [h.action_id for h in record.case.history]
    assert len(history) == len(set(history)), "an action was applied twice"
    receipt_applied = any(s.get("receipt") and s["expect"] == "applied" for s in entry["steps"])
    assert (RECEIPT_ACTION in history) == receipt_applied
    for step in entry["steps"]:
        if step["expect"] == "refused" and step.get("complaint_id", HOSTILE) == HOSTILE:
            assert record.refusals[step["action_id"]][0] == step["reason"]
    if "due_moved_hours" in entry:
        hours = entry["due_moved_hours"]
        base = _resolution(sla)
        expected_due = (
            extend_deadline(
                deadline=as_deadline(replace(base, due_at=due_at_start)),
                hours=hours,
                calendar=CALENDAR,
            ).due_at
            if hours
            else due_at_start
        )
        assert _resolution_due(sla) == expected_due
    await sla.stored_inert(HOSTILE)


@pytest.mark.parametrize(
    "identifier", ["", "\x00", "a\x00b", "$set", "a.b", "%", "%2E", "%00", ".$.", "x" * 1000]
)
def test_an_id_as_field_name_is_always_a_plain_key_and_distinct(identifier: str) -> None:
    key = field_key(identifier)
    check_document({"refusals": {key: 1}})
    others = {"", "\x00", "a\x00b", "$set", "a.b", "%", "%2E", "%00", ".$."} - {identifier}
    assert key not in {field_key(other) for other in others}


@pytest.mark.parametrize("entry", corpus(CORPUS / "incidents.jsonl"))
async def test_incidents_topic_corpus(sla: Sla, entry: Entry) -> None:
    await sla.classify(*GOOD, HOSTILE)
    hostile = payload(entry, BASES)
    good = [
        incident_closed(f"inc-good-000{n}", [cid], at=CLOSED_AT).model_dump_json().encode()
        for n, cid in enumerate(GOOD, start=1)
    ]
    await sla.rig.batch(Topic.INCIDENTS, [good[0], hostile, good[1]])
    assert_dead_letters(entry, hostile, sla.rig.dead_letters())
    for cid in GOOD:
        assert sla.cases.state(cid) is CaseState.RESOLVED, "a good close resolved no member"
    # Nothing of the hostile entries names a case that resolves: the hostile case stays open.
    assert sla.cases.state(HOSTILE) is CaseState.CLASSIFIED
    await sla.stored_inert(HOSTILE)
