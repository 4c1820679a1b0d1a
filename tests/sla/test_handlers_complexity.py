"""Handler tests of clocks keyed on complexity and category (issue 18, seed 004 T26/T27): a
lead's `complexity_marked` and a regrade's new category re-plan the clocks the pack keys on them,
and only those."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from contracts import (
    ActorRole,
    CaseAction,
    CaseActionRejected,
    CaseActionTaken,
    CaseStateChanged,
    Kind,
    LifecycleAction,
    Regrade,
    Severity,
    Topic,
)
from servicekit.bodies import deliver
from sla.domain import BusinessCalendar, SlaPolicy
from sla.handlers import LIFECYCLE
from tests._builders.sla import CID, RECEIVED, Rig, classified

A = LifecycleAction
POLICIES = Path(__file__).resolve().parents[2] / "policies"
BANK = SlaPolicy.load(policy_dir=POLICIES, pack="bank")
BANK_CALENDAR = BusinessCalendar.load(policy_dir=POLICIES, pack="bank")
SH = ZoneInfo("Asia/Shanghai")
# Received Tuesday 2026-11-24 09:30: general 3 wd → Friday 17:30; complex 10 wd → 12-08 17:30.
GENERAL_DUE = datetime(2026, 11, 27, 17, 30, tzinfo=SH)
COMPLEX_DUE = datetime(2026, 12, 8, 17, 30, tzinfo=SH)


def action(kind: LifecycleAction, hours: float, **fields: Any) -> CaseActionTaken:
    at = RECEIVED + timedelta(hours=hours)
    data = CaseAction(
        complaint_id=CID,
        action=kind,
        action_id=f"{kind.value}-{hours}",
        actor="lead-2",
        occurred_at=at,
        **fields,
    )
    return CaseActionTaken.build(data=data, subject=CID, source="/crm", time=at, cause="x")


async def act(rig: Rig, *events: CaseActionTaken) -> None:
    messages = [rig.inbound(e.model_dump_json().encode(), Topic.LIFECYCLE) for e in events]
    assert await deliver(LIFECYCLE, rig.actions.on_lifecycle, messages) == []


@pytest.fixture
async def bank(rig: Rig) -> Rig:
    """A general P4 complaint on the bank pack, dispatched."""
    for use_case in (rig.start, rig.actions):
        use_case.policy, use_case.calendar = BANK, BANK_CALENDAR
    await rig.classified(classified())
    await act(rig, action(A.ASSIGNED, 0.5, assignee="h-1"))
    return rig


def marked(hours: float, *, complex_case: bool, role: ActorRole = ActorRole.LEAD) -> Any:
    return action(A.COMPLEXITY_MARKED, hours, complex=complex_case, actor_role=role)


async def test_marking_a_case_complex_re_plans_only_the_clocks_keyed_on_it(bank: Rig) -> None:
    rig = bank
    assert (await rig.entry("resolution:1")).due_at == GENERAL_DUE
    contact_before = await rig.entry("first_contact:1")
    await act(rig, marked(1, complex_case=True))
    record = await rig.record()
    assert record.case.complex_case
    resolution = await rig.entry("resolution:1")
    assert resolution.due_at == COMPLEX_DUE
    assert resolution.started_at == RECEIVED  # re-planned from its own start
    assert await rig.entry("first_contact:1") == contact_before  # not keyed on complexity
    state = rig.publisher.of(CaseStateChanged)[-1].data
    assert (state.action, state.complex) == (A.COMPLEXITY_MARKED, True)
    # Unmarked: back to the general amount.
    await act(rig, marked(2, complex_case=False))
    assert (await rig.entry("resolution:1")).due_at == GENERAL_DUE


async def test_the_same_mark_twice_is_refused_with_a_reason(bank: Rig) -> None:
    await act(bank, marked(1, complex_case=False))
    [refused] = bank.publisher.of(CaseActionRejected)
    assert refused.data.reason == "complexity_unchanged"


def test_only_a_lead_or_a_manager_marks_complexity() -> None:
    with pytest.raises(ValidationError, match="lead or a manager"):
        marked(1, complex_case=True, role=ActorRole.HANDLER)
    with pytest.raises(ValidationError, match="needs `complex`"):
        action(A.COMPLEXITY_MARKED, 1, actor_role=ActorRole.LEAD)


async def test_a_regrade_to_a_category_the_pack_keys_on_re_plans_its_clocks(bank: Rig) -> None:
    rig = bank
    regrade = Regrade(kind=Kind.COMPLAINT, category="product/fees", severity=Severity.P4)
    await act(
        rig,
        action(
            A.REGRADED, 1, regrade=regrade, reason="a product complaint", actor_role=ActorRole.LEAD
        ),
    )
    record = await rig.record()
    assert record.facts.category == "product/fees"  # kept: later clocks start on it too
    assert (await rig.entry("resolution:1")).due_at == COMPLEX_DUE
