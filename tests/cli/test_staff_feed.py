"""What the demo's staff hear from the topics: new cases once, answers to the actions they sent."""

from __future__ import annotations

import asyncio

from complaints_cli.staff_feed import StaffFeed
from contracts import CaseActionRejected, CaseStateChanged, Topic

CID = "CP20261207-0000000001"


def event(kind: str, **data: object) -> dict[str, object]:
    return {"type": kind, "data": {"complaint_id": CID, **data}}


async def test_a_case_is_announced_once_by_its_first_set_deadlines() -> None:
    feed = StaffFeed("unused:9092")
    for _ in range(3):
        feed._hear(Topic.SLA.value, event("cn.complaints.sla.changed.v1", event="set"))
    feed._hear(Topic.SLA.value, event("cn.complaints.sla.changed.v1", event="warned"))
    assert feed.cases.qsize() == 1
    assert feed.cases.get_nowait() == CID


async def test_an_applied_or_refused_action_answers_the_one_waiting_for_it() -> None:
    feed = StaffFeed("unused:9092")
    applied, refused = feed.expect(CID, "a-1"), feed.expect(CID, "a-2")
    other = feed.expect(CID, "a-3")
    feed._hear(Topic.LIFECYCLE.value, event("cn.complaints.lifecycle.action.v1", action_id="a-1"))
    assert not applied.done()  # the staff member's own action on the topic is no answer
    feed._hear(
        Topic.LIFECYCLE.value,
        event(CaseStateChanged.event_type, action_id="a-1", to_state="assigned"),
    )
    feed._hear(
        Topic.LIFECYCLE.value,
        event(CaseActionRejected.event_type, action_id="a-2", reason="illegal_transition"),
    )
    assert (applied.result().status, applied.result().body["status"]) == (200, "applied")
    assert (refused.result().status, refused.result().body["reason"]) == (409, "illegal_transition")
    assert not other.done()
    feed.forget(CID, "a-3")
    feed._hear(Topic.LIFECYCLE.value, event(CaseStateChanged.event_type, action_id="a-3"))
    assert not other.done()


async def test_a_late_dispatch_hears_the_breach_it_waits_for_whether_before_or_after() -> None:
    feed = StaffFeed("unused:9092")

    def fired(percent: int, clock: str = "dispatch", occurrence: int = 1) -> None:
        data = {"event": "breached", "clock": clock, "threshold": percent, "occurrence": occurrence}
        feed._hear(Topic.SLA.value, event("cn.complaints.sla.v1", **data))

    fired(100)  # heard before anyone waits: the wait returns at once
    await asyncio.wait_for(feed.fired(CID, "dispatch", 100), timeout=1)
    escalation = asyncio.create_task(feed.fired(CID, "dispatch", 150))
    fired(150, clock="first_contact")  # another clock's escalation
    fired(150, occurrence=2)  # a later occurrence
    await asyncio.sleep(0.05)
    assert not escalation.done()
    fired(150)
    await asyncio.wait_for(escalation, timeout=1)
