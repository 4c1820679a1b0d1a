"""One contract for operations' incident changes, over the in-memory store and MongoDB."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from classifier.adapters.memory import InMemoryClassificationStore, InMemoryIncidentLedger
from classifier.adapters.mongo import MongoClassificationStore
from classifier.adapters.mongo_incident_ledger import MongoIncidentLedger
from classifier.domain import IncidentKey, IncidentSighting, Standing
from classifier.ports import ClassificationStore, IncidentLedger
from contracts import (
    Channel,
    ClassifiedComplaint,
    ComplaintClassified,
    Kind,
    Severity,
)
from tests.stores import fresh_database, mongo_server

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
KEY = IncidentKey("network/no_signal", "*", NOW)


@dataclass
class Backend:
    store: ClassificationStore
    ledger: IncidentLedger


@pytest.fixture(params=["memory", pytest.param("mongo", marks=pytest.mark.stack)])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    if request.param == "memory":
        store = InMemoryClassificationStore()
        yield Backend(store, InMemoryIncidentLedger(store))
        return
    async with fresh_database(mongo_server(), "classifier_ledger_test") as db:
        mongo = MongoClassificationStore(db)
        await mongo.ensure_indexes()
        yield Backend(mongo, MongoIncidentLedger(db))


def cid(n: int) -> str:
    return f"CP20261124-{n:010d}"


def decided(n: int) -> ComplaintClassified:
    data = ClassifiedComplaint(
        complaint_id=cid(n),
        channel=Channel.HOTLINE,
        received_at=NOW + timedelta(minutes=n),
        complainant_key="ck_" + f"{n:032x}",
        kind=Kind.COMPLAINT,
        category="network/no_signal",
        severity=Severity.P2,
        confidence=0.9,
        model_version="m1",
        policy="telecom",
        policy_version="1",
    )
    return ComplaintClassified.build(
        data=data,
        subject=data.complaint_id,
        source="/complaints/classifier",
        time=NOW,
        cause=cid(n),
    )


async def incident(backend: Backend, members: range) -> str:
    await backend.store.save([(decided(n), None) for n in members])
    last = NOW + timedelta(minutes=members[-1])
    return await backend.store.record_incident(
        IncidentSighting(KEY, last, tuple(cid(n) for n in members))
    )


async def test_a_closed_incident_is_listed_closed_and_takes_no_more_members(
    backend: Backend,
) -> None:
    incident_id = await incident(backend, range(1, 6))
    [row] = await backend.ledger.incidents(open_only=True)
    assert (row.incident_id, row.count, row.standing.open) == (incident_id, 5, True)
    standing = Standing(closed_at=NOW + timedelta(hours=1), resolution="修复", closed_by="ops-1")
    await backend.ledger.close(incident_id, sequence=2, standing=standing)
    await backend.ledger.close(
        incident_id, sequence=3, standing=Standing(closed_at=NOW, resolution="later")
    )
    assert await backend.ledger.incidents(open_only=True) == []
    [row] = await backend.ledger.incidents(open_only=False)
    assert row.standing == standing  # closed once: a second close changes nothing
    [state] = await backend.store.incident_states([incident_id])
    assert (state.closed, state.sequence) == (True, 2)
    assert await backend.store.open_incidents(["network/no_signal"], since=NOW) == []


async def test_members_taken_out_stay_out_and_a_merge_adds_them_as_announced(
    backend: Backend,
) -> None:
    incident_id = await incident(backend, range(1, 6))
    await backend.ledger.take_out(incident_id, [cid(1), cid(2)], sequence=2)
    await incident(backend, range(1, 8))  # a later sighting still holds the two
    [state] = await backend.store.incident_states([incident_id])
    assert sorted(m.complaint_id for m in state.members) == [cid(n) for n in range(3, 8)]
    await backend.ledger.take_in(incident_id, [cid(1)], sequence=3)
    [state] = await backend.store.incident_states([incident_id])
    assert cid(1) in {m.complaint_id for m in state.members}
    assert cid(1) in state.announced
    assert state.sequence == 3


async def test_a_burst_after_the_close_opens_a_new_incident_under_a_fresh_id(
    backend: Backend,
) -> None:
    closed_id = await incident(backend, range(1, 6))
    standing = Standing(closed_at=NOW + timedelta(hours=1), resolution="修复", closed_by="ops-1")
    await backend.ledger.close(closed_id, sequence=2, standing=standing)
    assert await backend.store.closed_incidents([closed_id, "nothing"]) == {closed_id}
    # The same window start again, the closed members with it: a new incident of the new ones.
    new_id = await incident(backend, range(1, 9))
    assert new_id != closed_id
    assert IncidentKey.parse(new_id).issue == KEY.issue
    assert IncidentKey.parse(new_id).start > KEY.start
    assert await incident(backend, range(1, 9)) == new_id  # a redelivery changes nothing
    closed, opened = await backend.store.incident_states([closed_id, new_id])
    assert sorted(m.complaint_id for m in closed.members) == [cid(n) for n in range(1, 6)]
    assert closed.closed
    assert sorted(m.complaint_id for m in opened.members) == [cid(n) for n in range(6, 9)]
    assert not opened.closed
    assert await backend.store.closed_incidents([closed_id, new_id]) == {closed_id}
    # A sighting of the closed incident's members alone (decided before the close) is its own.
    assert await incident(backend, range(1, 6)) == closed_id
    [state] = await backend.store.incident_states([closed_id])
    assert len(state.members) == 5
    # Closing the second one too: the next burst takes the next fresh id.
    await backend.ledger.close(new_id, sequence=2, standing=standing)
    third = await incident(backend, range(1, 12))
    assert third not in (closed_id, new_id)
    [state] = await backend.store.incident_states([third])
    assert sorted(m.complaint_id for m in state.members) == [cid(n) for n in range(9, 12)]
