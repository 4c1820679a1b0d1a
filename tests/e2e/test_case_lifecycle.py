"""One complaint from receipt to closure through the case API, on the real stack.

The four services run as processes; staff act with their own keys through `POST /cases/…/actions`
and the test checks, after every step, the case the API shows (state, clocks, notifications,
history), the stored case document, and at the end the state changes on `complaints.lifecycle.v1`.
Business time is pinned to a Tuesday morning in Shanghai (real speed), so no customer message waits
for quiet hours to end.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from complaints_cli.pipeline import StackConfig
from complaints_cli.topics import read_all
from contracts import Topic
from tests._builders.case_api import STAFF, Json, Staff, clock, due, until
from tests._builders.one_complaint import one_complaint

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.stack, pytest.mark.e2e]


def running(view: Json) -> list[Json]:
    return [c for c in view["clocks"] if c["status"] == "running"]


def receipts(view: Json, template: str) -> list[Json]:
    return [n for n in view["notifications"] if n["template"] == template]


async def lifecycle_moves(bootstrap: str, cid: str) -> list[tuple[str, str, str]]:
    """(action, from, to) of every CaseStateChanged about `cid`, in order."""
    moves = []
    async for value in read_all(bootstrap, Topic.LIFECYCLE):
        event = json.loads(value)
        if event.get("subject") == cid and event["type"] == "cn.complaints.lifecycle.state.v1":
            data = event["data"]
            moves.append((data["action"], data["from_state"], data["to_state"]))
    return moves


async def receipt_to_closure() -> None:
    async with one_complaint("caselife", STAFF) as run:
        staff = Staff(run.sla_url)
        try:
            await walk_the_case(staff, run.db, run.config)
        finally:
            await staff.http.aclose()


async def stored(db: Any, cid: str) -> Json:
    doc: Json = await db["cases"].find_one({"_id": cid})
    return doc


async def walk_the_case(staff: Staff, db: Any, config: StackConfig) -> None:
    async def listed() -> Json | None:
        page = (await staff.get("/cases", "lead")).json()
        return page if len(page["items"]) == 1 else None

    cid = (await until(listed, "the case to be listed"))["items"][0]["complaint_id"]

    # Receipt: clocks set; the delivered acknowledgement SMS acknowledges the case.
    async def acknowledged() -> Json | None:
        view = await staff.case(cid)
        ok = view["state"] == "acknowledged" and receipts(view, "acknowledgement")
        return view if ok else None

    view = await until(acknowledged, "the acknowledgement SMS")
    assert [(h["action"], h["actor"]) for h in view["history"]] == [("acknowledged", "notifier")]
    assert (clock(view, "acknowledge")["status"], clock(view, "acknowledge")["outcome"]) == (
        "met",
        "on_time",
    )
    assert receipts(view, "acknowledgement")[0]["status"] == "delivered"
    before_dispatch = {c["clock"] for c in running(view)}
    assert {"dispatch", "resolution", "outer_limit"} <= before_dispatch
    assert "first_contact" not in before_dispatch  # 001: it starts when the complaint is dispatched
    assert view["category"]  # kept from the classification
    assert view["severity"] in {"P1", "P2", "P3", "P4"}

    # Roles: a handler may not dispatch or close.
    forbidden = await staff.post(
        cid, {"action": "assigned", "action_id": "x", "assignee": "h"}, "handler"
    )
    assert (forbidden.status_code, forbidden.json()["reason"]) == (403, "forbidden_for_role")

    # Dispatch.
    applied = await staff.act(cid, "lead", "assigned", assignee="handler-e2e", department="billing")
    assert (applied["from_state"], applied["to_state"]) == ("acknowledged", "dispatched")
    view = await staff.case(cid)
    assert (view["assignee"], view["department"]) == ("handler-e2e", "billing")
    assert clock(view, "dispatch")["outcome"] == "on_time"
    assert "first_contact" in {c["clock"] for c in running(view)}  # started by the dispatch
    doc = await stored(db, cid)
    assert (doc["state"], doc["assignee"], len(doc["history"])) == ("dispatched", "handler-e2e", 2)

    # Action ids (issue 21): the dispatch's id with another body is 409, with the same body it
    # gets the same answer; an id never sent polls 404.
    body = {"action": "assigned", "action_id": "e2e-assigned", "assignee": "handler-e2e"}
    reused = await staff.post(cid, body, "lead")
    assert (reused.status_code, reused.json()["reason"]) == (409, "action_id_reused")
    same = await staff.post(cid, body | {"department": "billing"}, "lead")
    assert (same.status_code, same.json()["to_state"]) == (200, "dispatched")
    never = await staff.get(f"/cases/{cid}/actions/e2e-never-sent", "lead")
    assert (never.status_code, never.json()["reason"]) == (404, "unknown_action")

    async def handler_told() -> Json | None:
        current = await staff.case(cid)
        return current if receipts(current, "staff_assigned") else None

    view = await until(handler_told, "the handler's assignment message")
    assert receipts(view, "staff_assigned")[0]["audience"] == "handler"

    # Contact.
    await staff.act(cid, "handler", "contacted")
    view = await staff.case(cid)
    assert view["state"] == "in_progress"
    assert clock(view, "first_contact")["outcome"] == "on_time"

    # Waiting for the customer: the running clocks stand still.
    due_before = due(view, "resolution")
    await staff.act(cid, "handler", "awaiting_customer", reason="waiting for the bill")
    view = await staff.case(cid)
    assert view["state"] == "awaiting_customer"
    assert view["pause_reason"] == "waiting for the bill"
    assert clock(view, "resolution")["paused"] is True
    due_paused = due(view, "resolution")  # planned as if the pause lasts its whole cap
    assert due_paused > due_before
    await asyncio.sleep(2.0)
    await staff.act(cid, "handler", "customer_replied")
    view = await staff.case(cid)
    assert view["state"] == "in_progress"
    assert view["paused_at"] is None
    assert clock(view, "resolution")["paused"] is False
    assert due_before < due(view, "resolution") < due_paused  # moved by the pause it had
    doc = await stored(db, cid)
    assert len(doc["pauses"]) == 1

    # Resolution: the result clocks are met, the callback clock starts, the customer is told.
    await staff.act(cid, "handler", "resolved", result="refunded the overcharge")
    view = await staff.case(cid)
    assert view["state"] == "resolved"
    assert clock(view, "resolution")["outcome"] == "on_time"
    assert clock(view, "callback")["status"] == "running"

    async def customer_told() -> Json | None:
        current = await staff.case(cid)
        return current if receipts(current, "customer_result") else None

    view = await until(customer_told, "the customer's result message")
    assert receipts(view, "customer_result")[0]["audience"] == "customer"
    early = await staff.post(
        cid, {"action": "closed", "action_id": "early", "verdict": "upheld"}, "lead"
    )
    assert (early.status_code, early.json()["reason"]) == (409, "closure_needs_callback")

    # Callback and closure.
    await staff.act(cid, "handler", "callback_done", satisfaction="satisfied")
    assert clock(await staff.case(cid), "callback")["outcome"] == "on_time"
    await staff.act(cid, "lead", "closed", verdict="upheld", root_cause="billing rule")
    view = await staff.case(cid)
    assert view["state"] == "closed"
    assert (view["verdict"], view["callback_answer"]) == ("upheld", "satisfied")
    assert running(view) == []
    assert {c["status"] for c in view["clocks"]} <= {"met", "cancelled"}
    actions = [h["action"] for h in view["history"]]
    assert actions == [
        "acknowledged",
        "assigned",
        "contacted",
        "awaiting_customer",
        "customer_replied",
        "resolved",
        "callback_done",
        "closed",
    ]
    doc = await stored(db, cid)
    assert doc["state"] == "closed"
    assert doc["closed_at"] is not None
    assert [h["action"] for h in doc["history"]] == actions

    # After closure: illegal actions are refused, a repeated one answers what it did.
    illegal = await staff.post(cid, {"action": "contacted", "action_id": "late"}, "handler")
    assert (illegal.status_code, illegal.json()["reason"]) == (409, "illegal_transition")
    repeat = await staff.post(cid, {"action": "contacted", "action_id": "e2e-contacted"}, "handler")
    assert (repeat.status_code, repeat.json()["to_state"]) == (200, "in_progress")
    moves = await lifecycle_moves(config.kafka, cid)
    # The receipt's acknowledgement is in the history only: no one consumes an event for it.
    assert [m[0] for m in moves] == actions[1:]
    assert moves[-1] == ("closed", "callback_done", "closed")


def test_one_complaint_from_receipt_to_closure_through_the_case_api(local_stack: None) -> None:
    asyncio.run(receipt_to_closure())
