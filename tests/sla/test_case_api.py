"""The case API's actions: auth, roles, state machine checks, idempotency (in-memory ports).

Published actions are handed to the real lifecycle consumer (`CaseKeeper.on_lifecycle`) by the
test, the way the SLA service's own subscription would apply them.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest

from contracts import CaseState, ClockName, LifecycleAction, Severity
from sla.domain import LEGAL
from sla.http_api import PERMITTED
from sla.settings import Role
from tests._builders.personal_forms import PERSONAL
from tests._builders.sla import (
    ACTOR,
    CID,
    FIELDS,
    KEYS,
    ApiRig,
)

A = LifecycleAction
S = CaseState


JOURNEY = (
    (A.ACKNOWLEDGED, S.ACKNOWLEDGED),
    (A.ASSIGNED, S.DISPATCHED),
    (A.CONTACTED, S.IN_PROGRESS),
    (A.HANDOVER_REQUESTED, S.IN_PROGRESS),
    (A.HANDOVER_DECLINED, S.IN_PROGRESS),
    (A.HANDOVER_REQUESTED, S.IN_PROGRESS),
    (A.HANDOVER_ACCEPTED, S.IN_PROGRESS),
    (A.REGRADED, S.IN_PROGRESS),
    (A.COMPLEXITY_MARKED, S.IN_PROGRESS),
    (A.CALENDAR_REPLANNED, S.IN_PROGRESS),
    (A.AWAITING_CUSTOMER, S.AWAITING_CUSTOMER),
    (A.CUSTOMER_REPLIED, S.IN_PROGRESS),
    (A.DEADLINE_EXTENDED, S.IN_PROGRESS),
    (A.RESOLVED, S.RESOLVED),
    (A.CALLBACK_DONE, S.CALLBACK_DONE),
    (A.CLOSED, S.CLOSED),
    (A.REOPENED, S.REOPENED),
    (A.ASSIGNED, S.DISPATCHED),
    (A.CONTACT_FAILED, S.DISPATCHED),
    (A.WITHDRAWN, S.WITHDRAWN),
)


async def test_every_action_goes_through_the_api_and_is_applied(api: ApiRig) -> None:
    for step, (action, to_state) in enumerate(JOURNEY):
        api.rig.clock.advance(timedelta(minutes=30))
        applied = await api.act(action)
        assert (applied["action"], applied["to_state"]) == (action.value, to_state.value), step
        answers = {A.HANDOVER_ACCEPTED, A.HANDOVER_DECLINED}  # the receiving department's lead
        actor = "network-lead" if action in answers else ACTOR.get(action, Role.HANDLER).value
        assert applied["actor"] == f"{actor}-01"
        assert api.rig.memory.state(CID) is to_state
    assert {a for a, _ in JOURNEY} == set(LifecycleAction)
    assert len(api.rig.memory.records[CID].case.history) == len(JOURNEY)


async def test_an_accepted_action_is_published_keyed_by_the_case_and_polled(api: ApiRig) -> None:
    answer = await api.post(A.ACKNOWLEDGED, action_id="ack-1")
    assert answer.status_code == 202
    body = answer.json()
    assert answer.headers["location"] == f"/cases/{CID}/actions/ack-1" == body["location"]
    [event] = api.published
    assert (event.subject, event.id, event.source) == (
        CID,
        body["event_id"],
        "/complaints/case-api",
    )
    assert event.data.actor == "handler-01"
    assert event.data.occurred_at == api.rig.clock.now()
    pending = await api.get(body["location"])
    assert (pending.status_code, pending.json()["status"]) == (202, "pending")
    await api.consume()
    applied = await api.get(body["location"])
    assert (applied.status_code, applied.json()["status"]) == (200, "applied")


async def test_each_action_is_counted_and_logged_below_info(
    api: ApiRig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for action in (A.ACKNOWLEDGED, A.ASSIGNED):
        await api.act(action)
    assert api.counted == [A.ACKNOWLEDGED, A.ASSIGNED]
    published = [r for r in caplog.records if r.getMessage() == "case action published"]
    assert [r.levelno for r in published] == [logging.DEBUG, logging.DEBUG]
    assert not [r for r in caplog.records if r.name.startswith("sla") and r.levelno >= logging.INFO]


async def test_unreachable_three_times_then_a_lead_may_close(api: ApiRig) -> None:
    for action in (A.ASSIGNED, A.CONTACTED, A.RESOLVED):
        await api.act(action)
    early = await api.post(A.CLOSED, **FIELDS[A.CLOSED])
    assert early.status_code == 409
    assert early.json()["reason"] == "closure_needs_callback"
    for _ in range(3):
        applied = await api.act(A.CALLBACK_DONE, satisfaction="unreachable")
        assert applied["to_state"] == "resolved"
    assert (await api.act(A.CLOSED, verdict="partly_upheld"))["to_state"] == "closed"


@pytest.mark.parametrize(
    ("action", "state"),
    [
        (action, state)
        for action in LifecycleAction
        for state in (
            S.CLASSIFIED,
            S.ACKNOWLEDGED,
            S.DISPATCHED,
            S.IN_PROGRESS,
            S.AWAITING_CUSTOMER,
            S.RESOLVED,
            S.CALLBACK_DONE,
            S.CLOSED,
            S.REOPENED,
            S.WITHDRAWN,
            S.DUPLICATE,
        )
        if state not in LEGAL[action]
    ],
)
async def test_an_illegal_transition_is_409_with_the_reason_and_nothing_is_published(
    api: ApiRig, action: LifecycleAction, state: CaseState
) -> None:
    api.put_case(state)
    answer = await api.post(action, role=Role.MANAGER, **FIELDS.get(action, {}))
    assert answer.status_code == 409, answer.text
    body = answer.json()
    assert (body["reason"], body["state"]) == ("illegal_transition", state.value)
    assert f"`{action.value}` is not allowed in state `{state.value}`" in body["detail"]
    assert api.published == []


async def test_a_second_acknowledgement_is_refused_by_the_state_machine(api: ApiRig) -> None:
    api.put_case(S.DISPATCHED, acknowledged=True)
    answer = await api.post(A.ACKNOWLEDGED)
    assert (answer.status_code, answer.json()["reason"]) == (409, "already_acknowledged")


@pytest.mark.parametrize(
    ("state", "action", "fields", "reason"),
    [
        (S.ACKNOWLEDGED, A.ASSIGNED, {}, "assignment_needs_assignee"),
        (S.IN_PROGRESS, A.AWAITING_CUSTOMER, {}, "pause_needs_reason"),
        (S.RESOLVED, A.CALLBACK_DONE, {}, "callback_needs_answer"),
        (S.CALLBACK_DONE, A.CLOSED, {}, "closure_needs_verdict"),
        (S.IN_PROGRESS, A.DEADLINE_EXTENDED, {"clock": "resolution"}, "extension_incomplete"),
        (
            S.IN_PROGRESS,
            A.DEADLINE_EXTENDED,
            {"clock": "resolution", "extend_by_hours": 4},
            "extension_needs_approval",
        ),
    ],
)
async def test_an_action_lacking_what_it_needs_is_422_with_the_reason(
    api: ApiRig,
    state: CaseState,
    action: LifecycleAction,
    fields: dict[str, Any],
    reason: str,
) -> None:
    api.put_case(state)
    answer = await api.post(action, role=Role.MANAGER, **fields)
    assert (answer.status_code, answer.json()["reason"]) == (422, reason)
    assert api.published == []


@pytest.mark.parametrize(
    ("role", "action", "fields"),
    [
        *[
            (role, action, FIELDS.get(action, {}))
            for role in (Role.HANDLER, Role.LEAD)
            for action in LifecycleAction
            if action not in PERMITTED[role]
        ],
        (Role.LEAD, A.CLOSED, {"verdict": "malicious"}),
        (Role.HANDLER, A.CLOSED, {"verdict": "malicious"}),
    ],
)
async def test_a_role_that_may_not_record_an_action_gets_403(
    api: ApiRig, role: Role, action: LifecycleAction, fields: dict[str, Any]
) -> None:
    answer = await api.post(action, role=role, **fields)
    assert (answer.status_code, answer.json()["reason"]) == (403, "forbidden_for_role")
    assert api.published == []


def test_the_role_table_matches_the_documented_rules() -> None:
    assert A.DEADLINE_EXTENDED not in PERMITTED[Role.LEAD]
    assert {A.ASSIGNED, A.CLOSED, A.REOPENED} <= PERMITTED[Role.LEAD]
    assert PERMITTED[Role.HANDLER].isdisjoint({A.ASSIGNED, A.CLOSED, A.REOPENED})
    assert PERMITTED[Role.MANAGER] == frozenset(LifecycleAction)


async def test_only_a_manager_closes_as_malicious(api: ApiRig) -> None:
    api.put_case(S.CALLBACK_DONE)
    answer = await api.post(
        A.CLOSED, role=Role.MANAGER, verdict="malicious", evidence=["recording-2026-11-24-01"]
    )
    assert answer.status_code == 202
    await api.consume()
    assert api.rig.memory.records[CID].case.verdict == "malicious"


async def test_the_same_action_id_is_one_action(api: ApiRig) -> None:
    first = await api.post(A.ACKNOWLEDGED, action_id="ack-7")
    again = await api.post(A.ACKNOWLEDGED, action_id="ack-7")
    assert first.status_code == again.status_code == 202
    assert first.json()["event_id"] == again.json()["event_id"]
    assert len({e.id for e in api.published}) == 1
    await api.consume()
    assert [h.action_id for h in api.rig.memory.records[CID].case.history] == ["ack-7"]
    after = await api.post(A.ACKNOWLEDGED, action_id="ack-7")
    assert after.status_code == 200
    assert after.json() | {"at": None} == {
        "status": "applied",
        "complaint_id": CID,
        "action_id": "ack-7",
        "action": "acknowledged",
        "actor": "handler-01",
        "at": None,
        "from_state": "classified",
        "to_state": "acknowledged",
    }
    assert api.published == []


async def test_an_action_id_used_for_another_action_is_409(api: ApiRig) -> None:
    await api.act(A.ACKNOWLEDGED, action_id="x-1")
    answer = await api.post(A.ASSIGNED, action_id="x-1", **FIELDS[A.ASSIGNED])
    assert (answer.status_code, answer.json()["reason"]) == (409, "action_id_reused")


async def test_an_unknown_case_is_404(api: ApiRig) -> None:
    other = "CP20261124-9999999999"
    posted = await api.post(A.ACKNOWLEDGED, cid=other)
    assert (posted.status_code, posted.json()["reason"]) == (404, "unknown_case")
    for path in (f"/cases/{other}", f"/cases/{other}/actions/a1"):
        assert (await api.get(path)).status_code == 404
    assert api.published == []


@pytest.mark.parametrize("headers", [{}, {"X-Api-Key": "not-a-key"}, {"X-Api-Key": ""}])
async def test_a_missing_or_unknown_key_is_401(api: ApiRig, headers: dict[str, str]) -> None:
    body = {"action": "acknowledged", "action_id": "a-1"}
    posted = await api.client.post(f"/cases/{CID}/actions", json=body, headers=headers)
    listed = await api.client.get("/cases", headers=headers)
    shown = await api.client.get(f"/cases/{CID}", headers=headers)
    assert posted.status_code == listed.status_code == shown.status_code == 401
    assert posted.json()["reason"] == "unauthorized"
    assert api.published == []


async def test_the_openapi_document_needs_no_key(api: ApiRig) -> None:
    answer = await api.client.get("/cases/openapi.json")
    assert answer.status_code == 200
    paths = answer.json()["paths"]
    assert {"/cases", "/cases/{complaint_id}", "/cases/{complaint_id}/actions"} <= set(paths)


async def test_the_actor_is_never_taken_from_the_body(api: ApiRig) -> None:
    answer = await api.post(A.ACKNOWLEDGED, actor="someone-else")
    assert (answer.status_code, answer.json()["reason"]) == (422, "invalid_request")
    assert "actor" in answer.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {"action": "teleported", "action_id": "a-1"},
        {"action": "acknowledged"},
        {"action": "acknowledged", "action_id": "has spaces"},
        {"action": "deadline_extended", "action_id": "a-1", "extend_by_hours": -1},
    ],
)
async def test_a_malformed_body_is_422(api: ApiRig, body: dict[str, Any]) -> None:
    answer = await api.client.post(
        f"/cases/{CID}/actions", json=body, headers={"X-Api-Key": KEYS[Role.MANAGER]}
    )
    assert (answer.status_code, answer.json()["reason"]) == (422, "invalid_request")


async def test_free_text_is_masked_before_it_is_published(api: ApiRig) -> None:
    await api.act(A.ASSIGNED)
    await api.act(A.CONTACTED)
    note = "客户电话 138 1234 5678，邮箱 zhangsan@example.com"
    answer = await api.post(A.RESOLVED, result="退费", note=note)
    assert answer.status_code == 202
    [event] = api.published
    assert event.data.note == "客户电话 *** **** 5678，邮箱 z***@example.com"
    assert "zhangsan" not in json.dumps(event.model_dump(mode="json"), ensure_ascii=False)


@pytest.mark.parametrize(("text", "secret"), PERSONAL)
async def test_every_personal_form_in_staff_text_is_masked_on_the_topic(
    api: ApiRig, text: str, secret: str
) -> None:
    await api.act(A.ASSIGNED)
    await api.act(A.CONTACTED)
    answer = await api.post(A.RESOLVED, result=f"退费。{text}", note=f"已回电，{text}")
    assert answer.status_code == 202, answer.text
    [event] = api.published
    assert event.data.note is not None
    assert event.data.result is not None
    assert secret not in event.data.note
    assert secret not in event.data.result
    assert event.data.note.startswith("已回电，")


async def test_kafka_down_is_503_and_the_same_action_id_goes_through_later(api: ApiRig) -> None:
    api.failures = 1
    failed = await api.post(A.ACKNOWLEDGED, action_id="ack-9")
    assert (failed.status_code, failed.json()["reason"]) == (503, "unavailable")
    again = await api.post(A.ACKNOWLEDGED, action_id="ack-9")
    assert again.status_code == 202
    await api.consume()
    assert api.rig.memory.state(CID) is S.ACKNOWLEDGED


async def test_an_action_the_consumer_refuses_after_the_check_polls_as_409(api: ApiRig) -> None:
    from tests._builders.sla import on_receipts, receipt

    answer = await api.post(A.ACKNOWLEDGED, action_id="ack-race")
    assert answer.status_code == 202
    # The acknowledgement SMS is delivered first: the consumer then refuses the staff's one.
    await on_receipts(api.rig, receipt())
    await api.consume()
    polled = await api.get(answer.headers["location"])
    assert polled.status_code == 409
    assert polled.json()["reason"] == "already_acknowledged"
    assert polled.json()["state"] == "acknowledged"


async def test_a_lead_regrade_re_plans_the_clocks_on_the_new_severity(api: ApiRig) -> None:
    """Issue 16: a regrade changes the case's level and re-plans its running clocks; the
    handler may not regrade; a regrade without its reason is incomplete (422)."""
    before = {e.clock: e.due_at for e in (await api.rig.record()).clocks if e.running}
    refused = await api.post(A.REGRADED, role=Role.HANDLER, **FIELDS[A.REGRADED])
    assert (refused.status_code, refused.json()["reason"]) == (403, "forbidden_for_role")
    bare = {"regrade": FIELDS[A.REGRADED]["regrade"]}
    incomplete = await api.post(A.REGRADED, role=Role.LEAD, **bare)
    assert (incomplete.status_code, incomplete.json()["reason"]) == (422, "regrade_incomplete")
    applied = await api.act(A.REGRADED)
    assert applied["to_state"] == "classified"
    record = await api.rig.record()
    assert record.case.severity is Severity.P2
    after = {e.clock: e for e in record.clocks if e.running}
    # P4 → P2: resolution 3 wd stays, dispatch 4 wh → 1 h, acknowledge 1 h → 30 min, and the
    # P2 progress updates start now.
    assert after[ClockName.DISPATCH].due_at < before[ClockName.DISPATCH]
    assert after[ClockName.ACKNOWLEDGE].due_at < before[ClockName.ACKNOWLEDGE]
    assert after[ClockName.DISPATCH].severity == "P2"
    assert ClockName.PROGRESS_UPDATE in after
    assert ClockName.PROGRESS_UPDATE not in before
    assert all(e.severity == "P2" for e in after.values() if e.clock is not None)
