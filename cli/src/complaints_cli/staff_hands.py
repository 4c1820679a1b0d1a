"""What one staff member does for one step: wait for its hour, for the breach it follows, and for
the SLA to apply it."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime

from complaints_cli.case_client import Answer, CaseClient
from complaints_cli.staff_feed import StaffFeed
from complaints_cli.staff_script import Assignment, Json, awaited_firing
from servicekit.clock import ScaledClock

# How long a staff member waits for an action to be applied before giving the case up: at the
# demo's pace the SLA service also fires hundreds of warnings a minute, so bursts queue up.
CONFIRM_LIMIT_S = 300.0
# How long a late script's dispatch waits to hear its clock's breach (or escalation) announced
# before it acts anyway (real seconds; business time is held meanwhile, up to its budget).
FIRING_LIMIT_S = 20.0
# How often a staff member looks whether an action was applied. Two seconds (18 business minutes)
# made prompt staff late for their first contact: the contact waits for the assignment. Paced
# arrivals keep the number of actions in flight at a handful, so half a second costs little.
CONFIRM_POLL_S = 0.5


async def until(clock: ScaledClock, at: datetime) -> None:
    """Sleep until business time reaches `at` (a hold may postpone it: look again)."""
    while (wait := clock.real_seconds_until(at)) > 0:  # noqa: ASYNC110 - a clock, not an event
        await asyncio.sleep(wait)


async def hear_firing(feed: StaffFeed | None, assignment: Assignment, index: int) -> None:
    """Before a late dispatch: wait until the SLA has announced the breach it follows."""
    percent = awaited_firing(assignment, index)
    if percent is None or feed is None:
        return
    with contextlib.suppress(TimeoutError):
        heard = feed.fired(assignment.complaint_id, "dispatch", percent)
        await asyncio.wait_for(heard, FIRING_LIMIT_S)


async def act(client: CaseClient, feed: StaffFeed | None, cid: str, body: Json) -> Answer:
    """Send one action and wait until the SLA says it was applied or refused."""
    if feed is None:
        return await client.act_and_wait(cid, body, limit_s=CONFIRM_LIMIT_S, every_s=CONFIRM_POLL_S)
    heard = feed.expect(cid, str(body["action_id"]))
    try:
        answer = await client.act(cid, body)
        if answer.status != 202 or answer.location is None:
            return answer
        try:
            return await asyncio.wait_for(heard, CONFIRM_LIMIT_S)
        except TimeoutError:
            return await client.result(answer.location)  # one last look
    finally:
        feed.forget(cid, str(body["action_id"]))
