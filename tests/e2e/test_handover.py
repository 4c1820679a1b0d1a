"""首问负责 on the real stack: a hand-over left unanswered escalates at the pack's limit while the
case keeps its owner; the receiving department's acceptance moves the ownership.

The four services run as processes over the local Kafka and FerretDB, business time at 600× from
a Tuesday morning in Shanghai, so the telecom pack's hand-over limit (2 working hours for P3/P4,
less for P1/P2) passes in seconds. Staff act through the case API with their own keys.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from complaints_cli.pipeline import StackConfig
from complaints_cli.topics import read_all
from contracts import Topic
from tests._builders.case_api import Staff, staff_table, until
from tests._builders.one_complaint import one_complaint

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.stack, pytest.mark.e2e]

ORIGIN = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # Tuesday 24 November 2026, 10:00 Shanghai
SCALE = 600.0
# The hand-over goes from the lead's billing desk to the handler's network department.
STAFF = staff_table({"handler": "network", "lead": "billing", "manager": None})
Json = dict[str, Any]


def handover_clock(view: Json) -> Json:
    [found] = [c for c in view["clocks"] if c["clock"] == "handover"]
    return found  # type: ignore[no-any-return]


async def handover_events(bootstrap: str, cid: str) -> list[Json]:
    """The hand-over clock's events on complaints.sla.v1 about `cid`."""
    events = [json.loads(v) async for v in read_all(bootstrap, Topic.SLA)]
    return [
        e["data"] for e in events if e.get("subject") == cid and e["data"]["clock"] == "handover"
    ]


async def hand_over(staff: Staff, db: Any, config: StackConfig) -> None:
    async def listed() -> Json | None:
        page = (await staff.get("/cases", "lead")).json()
        return page if len(page["items"]) == 1 else None

    cid = (await until(listed, "the case to be listed"))["items"][0]["complaint_id"]
    # The lead at the front desk is the first to act: the lead owns the case (首问负责).
    await staff.act(cid, "lead", "assigned", assignee="h-1", department="billing")
    await staff.act(
        cid,
        "lead",
        "handover_requested",
        department="network",
        reason="line fault: the exchange side must test the line",
    )
    view = await staff.case(cid)
    assert (view["owner"], view["owner_department"]) == ("lead-e2e", None)
    [pending] = view["handovers"]
    assert (pending["department"], pending["status"]) == ("network", "pending")
    assert handover_clock(view)["status"] == "running"

    async def breached() -> Json | None:
        current = await staff.case(cid)
        return current if handover_clock(current)["breached"] else None

    view = await until(breached, "the unanswered hand-over to breach", limit_s=90)
    assert view["owner"] == "lead-e2e"  # nobody accepted: the owner keeps the case
    assert view["handovers"][0]["status"] == "pending"
    assert handover_clock(view)["status"] == "running"  # and it keeps escalating

    async def announced() -> Json | None:
        found = await handover_events(config.kafka, cid)
        return next((e for e in found if e["event"] == "breached"), None)

    breach = await until(announced, "the breach on complaints.sla.v1")
    assert "team_lead" in breach["audiences"]

    # The receiving department's staff accept: they own the case from now; the clock is met late.
    await staff.act(cid, "handler", "handover_accepted", department="network")
    view = await staff.case(cid)
    assert (view["owner"], view["owner_department"]) == ("handler-e2e", "network")
    assert view["handovers"][0]["status"] == "accepted"
    assert view["handovers"][0]["decided_by"] == "handler-e2e"
    assert (handover_clock(view)["status"], handover_clock(view)["outcome"]) == ("met", "late")
    doc = await db["cases"].find_one({"_id": cid})
    assert (doc["owner"], doc["owner_department"]) == ("handler-e2e", "network")
    assert [h["status"] for h in doc["handovers"]] == ["accepted"]


async def run() -> None:
    async with one_complaint("handover", STAFF, scale=SCALE) as one:
        staff = Staff(one.sla_url)
        try:
            await hand_over(staff, one.db, one.config)
        finally:
            await staff.http.aclose()


def test_an_unanswered_hand_over_escalates_and_the_owner_keeps_the_case(local_stack: None) -> None:
    asyncio.run(run())
