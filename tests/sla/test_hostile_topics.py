"""Replayed and out-of-order staff actions on the SLA's lifecycle topic, and ids as field names.

The single hostile messages of the SLA's topics run in the shared suite
(tests/topics/test_hostile_topics.py, tests/_builders/hostile_sla.py); here, sequences of actions
(tests/sla/corpus/lifecycle_sequences.jsonl) go through the real subscriptions on a test broker.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from contracts import CaseAction, CaseActionRejected, CaseActionTaken, CaseStateChanged, Topic
from servicekit.mongo import check_document
from sla.adapters.case_documents import field_key
from sla.clocks.sheet import ClockEntry, as_deadline
from sla.domain import extend_deadline
from tests._builders.hostile import Entry, corpus, without_retry_sleeps
from tests._builders.hostile_sla import CORPUS, HOSTILE, Sla, receipt, running_sla
from tests._builders.sla import CALENDAR, RECEIVED


@pytest.fixture
async def sla(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Sla]:
    without_retry_sleeps(monkeypatch)
    async with running_sla(monkeypatch) as running:
        yield running


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
