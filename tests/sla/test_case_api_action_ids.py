"""Action ids on the case API: a reused id with another body is 409, the same body gets the same
answer (and is published again while pending), an id never sent polls 404 (issue 21)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from contracts import LifecycleAction
from sla.settings import Role
from tests._builders.sla import CID, ApiRig, Rig, case_api

A = LifecycleAction


@pytest.fixture
async def api(rig: Rig) -> AsyncIterator[ApiRig]:
    """The case API over a classified P4 complaint."""
    async with case_api(rig) as opened:
        yield opened


async def test_the_same_body_again_while_pending_gets_the_same_answer(api: ApiRig) -> None:
    first = await api.post(A.ACKNOWLEDGED, action_id="ack-1", note="called at 9")
    again = await api.post(A.ACKNOWLEDGED, action_id="ack-1", note="called at 9")
    assert (first.status_code, again.status_code) == (202, 202)
    assert first.json() == again.json()
    assert first.headers["location"] == again.headers["location"]
    [one, two] = api.published  # published again (a retry after a lost answer), the same event
    assert one == two
    await api.consume()
    applied = await api.post(A.ACKNOWLEDGED, action_id="ack-1", note="called at 9")
    assert (applied.status_code, applied.json()["status"]) == (200, "applied")


async def test_a_reused_id_with_another_body_is_409_pending_or_applied(api: ApiRig) -> None:
    await api.post(A.ACKNOWLEDGED, action_id="ack-1", note="called at 9")
    for body in ({"note": "called at 10"}, {}):
        other = await api.post(A.ACKNOWLEDGED, action_id="ack-1", **body)
        assert (other.status_code, other.json()["reason"]) == (409, "action_id_reused")
    by_lead = await api.post(A.ACKNOWLEDGED, role=Role.LEAD, action_id="ack-1", note="called at 9")
    assert (by_lead.status_code, by_lead.json()["reason"]) == (409, "action_id_reused")
    assert len(api.published) == 1
    await api.consume()
    late = await api.post(A.ACKNOWLEDGED, action_id="ack-1", note="called at 11")
    assert (late.status_code, late.json()["reason"]) == (409, "action_id_reused")


async def test_an_action_id_never_sent_polls_404_not_pending(api: ApiRig) -> None:
    never = await api.get(f"/cases/{CID}/actions/never-sent")
    assert (never.status_code, never.json()["reason"]) == (404, "unknown_action")
    sent = await api.post(A.ACKNOWLEDGED, action_id="ack-2")
    polled = await api.get(sent.headers["location"])
    assert (polled.status_code, polled.json()["status"]) == (202, "pending")


async def test_a_refused_submission_is_not_taken_so_its_id_stays_free(api: ApiRig) -> None:
    refused = await api.post(A.CLOSED, role=Role.LEAD, action_id="c-1", verdict="upheld")
    assert refused.status_code == 409
    assert (await api.get(f"/cases/{CID}/actions/c-1")).status_code == 404
    taken = await api.post(A.ACKNOWLEDGED, action_id="c-1")
    assert taken.status_code == 202


async def test_a_publish_that_failed_is_published_on_the_retry(api: ApiRig) -> None:
    api.failures = 1
    failed = await api.post(A.ACKNOWLEDGED, action_id="ack-3")
    assert failed.status_code == 503
    retried = await api.post(A.ACKNOWLEDGED, action_id="ack-3")
    assert retried.status_code == 202
    assert [e.data.action_id for e in api.published] == ["ack-3"]
