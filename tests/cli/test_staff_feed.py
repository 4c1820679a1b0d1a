"""What the demo's staff hear from the topics: new cases once, answers to the actions they sent."""

from __future__ import annotations

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
