"""Handler tests: a lead's regrade carries its flags into the case (issue 16).

The corrected flags become the case's facts, and the running clocks are planned again on them:
a `media` flag adds the single media contact to every breach (DOMAIN.md §5, 000: only General
Affairs speaks to media), and taking the flag away takes the contact off again. A regrade with
the same flags and severity changes no clock.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from contracts import (
    ActorRole,
    Audience,
    CaseAction,
    CaseActionTaken,
    FlagName,
    Kind,
    LifecycleAction,
    Regrade,
    Severity,
    Topic,
)
from servicekit.bodies import deliver
from sla.clocks.sheet import ClockEntry
from sla.handlers import LIFECYCLE
from tests._builders.sla import CID, RECEIVED, Rig, classified

A = LifecycleAction
F = FlagName


def regraded(hours: float, *flags: FlagName, severity: Severity = Severity.P4) -> CaseActionTaken:
    at = RECEIVED + timedelta(hours=hours)
    regrade = Regrade(
        kind=Kind.COMPLAINT, category="billing/overcharge", severity=severity, flags=list(flags)
    )
    data = CaseAction(
        complaint_id=CID,
        action=A.REGRADED,
        action_id=f"regraded-{hours}",
        actor="lead-2",
        actor_role=ActorRole.LEAD,
        occurred_at=at,
        regrade=regrade,
        reason="the customer's video is on the local news",
    )
    return CaseActionTaken.build(data=data, subject=CID, source="/crm", time=at, cause="x")


async def act(rig: Rig, *events: CaseActionTaken) -> None:
    messages = [rig.inbound(e.model_dump_json().encode(), Topic.LIFECYCLE) for e in events]
    assert await deliver(LIFECYCLE, rig.actions.on_lifecycle, messages) == []


def breach_audiences(entry: ClockEntry) -> set[Any]:
    return {a for t in entry.thresholds if t.percent == 100 for a in t.audiences}


async def test_a_regrade_s_flags_reach_the_case_and_its_breach_audiences(rig: Rig) -> None:
    await rig.classified(classified())
    before = await rig.entry("resolution:1")
    assert (await rig.record()).facts.flags == ()
    assert Audience.MEDIA_CONTACT not in breach_audiences(before)

    await act(rig, regraded(1, F.MEDIA, F.OVER_LEVEL, F.VIP))
    record = await rig.record()
    assert set(record.facts.flags) == {F.MEDIA, F.OVER_LEVEL, F.VIP}
    assert record.case.severity is Severity.P4  # flags alone: the level stays as regraded
    media = await rig.entry("resolution:1")
    assert Audience.MEDIA_CONTACT in breach_audiences(media)
    assert media.due_at == before.due_at  # same level and category: same due time
    running = [e for e in record.clocks if e.running and e.clock is not None]
    assert all(Audience.MEDIA_CONTACT in breach_audiences(e) for e in running)

    await act(rig, regraded(2, F.OVER_LEVEL))
    record = await rig.record()
    assert record.facts.flags == (F.OVER_LEVEL,)
    assert Audience.MEDIA_CONTACT not in breach_audiences(await rig.entry("resolution:1"))


async def test_a_regrade_that_changes_nothing_leaves_the_clocks_alone(rig: Rig) -> None:
    await rig.classified(classified())
    before = (await rig.record()).clocks
    await act(rig, regraded(1))
    record = await rig.record()
    assert record.facts.flags == ()
    assert record.clocks == before
    assert rig.memory.changes[CID][-1].flags is None  # nothing new to store
