"""A closed mass incident resolves its members' SLA clocks (issue 17 leftover), over the fake and
the real store: one batched write per batch of members, the events a `resolved` publishes, the
callback started, and nothing new on a redelivered close."""

from __future__ import annotations

from datetime import timedelta

from contracts import (
    CaseState,
    CaseStateChanged,
    ClockName,
    ClockStatus,
    IncidentChange,
    IncidentChanged,
    LifecycleAction,
    Severity,
    SlaEventKind,
    Topic,
)
from servicekit.bodies import deliver
from sla.adapters.memory import InMemoryCaseStore
from sla.casework.incidents import ResolveIncidentMembers
from sla.handlers import INCIDENTS
from tests._builders.sla import (
    RECEIVED,
    Rig,
    cid_n,
    classified,
    incident_closed,
)
from tests._builders.sla_actions import act, action
from tests.sla.contract import Adapters

A = LifecycleAction
INCIDENT = "inc-network-no-signal-0001"
CLOSED_AT = RECEIVED + timedelta(hours=3)


def closed(members: list[str], *, resolution: str | None = "基站电源已恢复") -> IncidentChanged:
    """The classifier's signed-off `closed` change of the incident."""
    return incident_closed(INCIDENT, members, at=CLOSED_AT, resolution=resolution)


def use_case(rig: Rig) -> ResolveIncidentMembers:
    return ResolveIncidentMembers.using(rig.work)


async def test_closing_an_incident_resolves_its_open_members_once(adapters: Adapters) -> None:
    rig = Rig(cases=adapters.cases(), index=adapters.due_index())
    fresh, dispatched, working, withdrawn = (cid_n(n) for n in (11, 12, 13, 14))
    await rig.classified(
        *(classified(cid=c, severity=Severity.P2) for c in (fresh, dispatched, working, withdrawn))
    )
    at = RECEIVED + timedelta(minutes=20)
    await act(
        rig,
        action(A.ASSIGNED, at, cid=dispatched, assignee="h1"),
        action(A.ASSIGNED, at, cid=working, assignee="h2"),
        action(A.CONTACTED, at + timedelta(minutes=5), cid=working),
        action(A.WITHDRAWN, at, cid=withdrawn, reason="the customer withdrew"),
    )
    rig.publisher.events.clear()
    rig.publisher.states.clear()
    members = [fresh, dispatched, working, withdrawn, cid_n(99)]  # the last one: never seen here
    resolve = use_case(rig)
    message = rig.inbound(closed(members).model_dump_json().encode(), Topic.INCIDENTS)
    memory = rig.cases if isinstance(rig.cases, InMemoryCaseStore) else None
    batches = memory.batches if memory else 0

    assert await deliver(INCIDENTS, resolve.on_incidents, [message]) == []

    resolved = [fresh, dispatched, working]
    for cid in resolved:
        record = await rig.record(cid)
        assert record.case.state is CaseState.RESOLVED
        [entry] = [h for h in record.case.history if h.action is A.RESOLVED]
        assert entry.actor == f"incident:{INCIDENT}"
        assert entry.at == CLOSED_AT
        clocks = {c.clock: c for c in record.clocks if c.clock is not None}
        assert clocks[ClockName.RESOLUTION].status is ClockStatus.MET
        assert clocks[ClockName.CALLBACK].running  # callbacks still happen (001 Art. 53)
        assert not any(c.running and c.clock is not ClockName.CALLBACK for c in record.clocks)
    assert (await rig.record(withdrawn)).case.state is CaseState.WITHDRAWN
    if memory:
        assert memory.batches == batches + 1  # one batched write for the batch of members
    states = rig.publisher.of(CaseStateChanged)
    assert sorted(s.data.complaint_id for s in states) == sorted(resolved)
    assert {(s.data.from_state, s.data.to_state) for s in states} == {
        (CaseState.CLASSIFIED, CaseState.RESOLVED),
        (CaseState.DISPATCHED, CaseState.RESOLVED),
        (CaseState.IN_PROGRESS, CaseState.RESOLVED),
    }
    met = {(e.data.complaint_id, e.data.clock) for e in rig.publisher.sla}
    assert (fresh, ClockName.RESOLUTION) in met
    assert {s.data.complaint_id for s in rig.publisher.states} == set(resolved)  # snapshots
    first_ids = sorted(e.id for e in rig.publisher.events)
    versions = {cid: (await rig.record(cid)).version for cid in resolved}

    # Redelivered: nothing changes; the stored events go out again with their ids.
    rig.publisher.events.clear()
    again = rig.inbound(closed(members).model_dump_json().encode(), Topic.INCIDENTS)
    assert await deliver(INCIDENTS, resolve.on_incidents, [again]) == []
    assert {cid: (await rig.record(cid)).version for cid in resolved} == versions
    assert sorted(e.id for e in rig.publisher.events) == first_ids


async def test_a_close_without_a_resolution_or_another_change_resolves_nothing(
    adapters: Adapters,
) -> None:
    rig = Rig(cases=adapters.cases(), index=adapters.due_index())
    member = cid_n(21)
    await rig.classified(classified(cid=member, severity=Severity.P2))
    resolve = use_case(rig)
    close = closed([member])
    grown = close.model_copy(
        update={"data": close.data.model_copy(update={"change": IncidentChange.GROWN})}
    )
    for event in (closed([member], resolution=None), grown):
        message = rig.inbound(event.model_dump_json().encode(), Topic.INCIDENTS)
        assert await deliver(INCIDENTS, resolve.on_incidents, [message]) == []
    assert (await rig.record(member)).case.state is CaseState.CLASSIFIED


async def test_a_message_that_is_not_an_incident_is_rejected() -> None:
    rig = Rig()
    message = rig.inbound(b'{"not": "an incident"}', Topic.INCIDENTS)
    [rejection] = await deliver(INCIDENTS, use_case(rig).on_incidents, [message])
    assert rejection.message is message
    assert SlaEventKind.MET not in rig.publisher.kinds()
