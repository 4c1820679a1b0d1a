"""Issue 20: who may see and act on which case through the case API.

A handler sees and works their own cases, their department's queue and the front desk's; a lead
their department's and the front desk's; a manager all. A withdrawal is the customer's request
recorded by a lead, and a lead can undo it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from contracts import CaseState
from contracts import LifecycleAction as A
from sla.casework.access import Desk, act_refusal, may_see
from sla.settings import Role, StaffKey
from tests._builders.sla import CID, FIELDS, ApiRig, Rig, case_api

BILLING_HANDLER = StaffKey(staff_id="handler-01", role=Role.HANDLER, department="billing")
NETWORK_HANDLER = StaffKey(staff_id="handler-09", role=Role.HANDLER, department="network")
NETWORK_LEAD = StaffKey(staff_id="lead-09", role=Role.LEAD, department="network")
MANAGER = StaffKey(staff_id="manager-01", role=Role.MANAGER)


@pytest.fixture
async def api(rig: Rig) -> AsyncIterator[ApiRig]:
    """The case API over a classified P4 complaint."""
    async with case_api(rig) as opened:
        yield opened


def test_who_sees_which_desk() -> None:
    front = Desk(None)
    billing_queue = Desk(None, frozenset({"billing"}))
    mine = Desk("handler-01", frozenset({"billing"}))
    colleague = Desk("handler-02", frozenset({"billing"}))
    asked = Desk("handler-02", frozenset({"billing"}), asked="network")
    assert [may_see(BILLING_HANDLER, d) for d in (front, billing_queue, mine, colleague)] == [
        True,
        True,
        True,
        False,
    ]
    assert [may_see(NETWORK_HANDLER, d) for d in (billing_queue, mine, asked)] == [
        False,
        False,
        True,
    ]
    assert [may_see(NETWORK_LEAD, d) for d in (front, billing_queue, colleague, asked)] == [
        True,
        False,
        False,
        True,
    ]
    assert all(may_see(MANAGER, d) for d in (front, billing_queue, mine, colleague, asked))
    assert act_refusal(NETWORK_HANDLER, asked, A.HANDOVER_ACCEPTED) is None
    assert act_refusal(NETWORK_HANDLER, asked, A.CONTACTED) is not None
    refused = act_refusal(BILLING_HANDLER, asked, A.HANDOVER_ACCEPTED)
    assert refused is not None
    assert refused[:2] == (403, "not_your_case")


async def test_a_handler_cannot_read_or_act_on_another_departments_case(api: ApiRig) -> None:
    await api.act(A.ASSIGNED, assignee="handler-07", department="network")
    for role in (Role.HANDLER, Role.LEAD):  # both work in billing
        shown = await api.get(f"/cases/{CID}", role)
        assert (shown.status_code, shown.json()["reason"]) == (403, "not_your_case")
        listed = await api.get("/cases", role)
        assert listed.json()["items"] == []
        assert listed.json()["total"] == 0
    acted = await api.post(A.CONTACTED)
    assert (acted.status_code, acted.json()["reason"]) == (403, "not_your_case")
    assert api.published == []
    assert (await api.get(f"/cases/{CID}", Role.MANAGER)).status_code == 200


async def test_a_handler_cannot_act_on_another_handlers_case(api: ApiRig) -> None:
    await api.act(A.ASSIGNED, assignee="handler-02", department="billing")
    acted = await api.post(A.CONTACTED)
    assert (acted.status_code, acted.json()["reason"]) == (403, "not_your_case")
    assert (await api.get(f"/cases/{CID}")).status_code == 403
    # The department's lead still sees and works it.
    assert (await api.get(f"/cases/{CID}", Role.LEAD)).status_code == 200


async def test_only_a_lead_withdraws_on_the_customers_request_and_can_undo_it(
    api: ApiRig,
) -> None:
    await api.act(A.ASSIGNED)
    by_handler = await api.post(A.WITHDRAWN, role=Role.HANDLER, **FIELDS[A.WITHDRAWN])
    assert (by_handler.status_code, by_handler.json()["reason"]) == (403, "forbidden_for_role")
    unrequested = await api.post(A.WITHDRAWN, role=Role.LEAD)
    assert (unrequested.status_code, unrequested.json()["reason"]) == (
        422,
        "withdrawal_needs_request",
    )
    assert api.published == []
    withdrawn = await api.act(A.WITHDRAWN)
    assert (withdrawn["actor"], withdrawn["to_state"]) == ("lead-01", CaseState.WITHDRAWN.value)
    undone = await api.act(A.REOPENED, reason="withdrawn by mistake")
    assert (undone["from_state"], undone["to_state"]) == ("withdrawn", "reopened")
