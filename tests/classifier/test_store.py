"""One contract for the classifier's store, run against the in-memory adapter and MongoDB.

The MongoDB variant is marked `stack`: it uses the server at COMPLAINTS_MONGO when that is set,
and otherwise starts (or reuses) the local stack first.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from classifier.adapters.memory import InMemoryClassificationStore
from classifier.adapters.mongo import MongoClassificationStore
from classifier.ports import ClassificationStore
from contracts import (
    Channel,
    ClassifiedComplaint,
    ComplaintClassified,
    Kind,
    Severity,
)
from contracts.read_models import CLASSIFICATIONS, CLASSIFIED_EVENTS
from servicekit.read_models import read
from tests.stores import BACKENDS, Backend, backend_of, fresh_database, mongo_server

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
KEY = "ck_" + "a" * 32


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend[ClassificationStore]]:
    async with backend_of(
        request.param, InMemoryClassificationStore, MongoClassificationStore, "classifier_test"
    ) as made:
        yield made


def decided(number: int, *, at: datetime = NOW, incident: str | None = None) -> ComplaintClassified:
    data = ClassifiedComplaint(
        complaint_id=f"CP20261124-{number:010d}",
        channel=Channel.SMS,
        received_at=at,
        complainant_key=KEY,
        kind=Kind.COMPLAINT,
        category="billing/unknown_deduction",
        severity=Severity.P3,
        confidence=0.9,
        model_version="m1",
        policy="telecom",
        policy_version="1",
        incident_id=incident,
    )
    return ComplaintClassified.build(
        data=data,
        subject=data.complaint_id,
        source="/complaints/classifier",
        time=at,
        cause=data.complaint_id,
    )


async def test_the_first_decision_is_kept_and_republished_on_redelivery(
    backend: Backend[ClassificationStore],
) -> None:
    first, other = decided(1), decided(2)
    saved = await backend.store.save([(first, "阳光花园")])
    assert (saved.events, saved.new) == ([first], {first.data.complaint_id})
    # Decided again an hour later (history moved on): the stored decision is what comes back.
    later = decided(1, at=NOW + timedelta(hours=1), incident="network|x|y")
    again = await backend.store.save([(later, None), (other, None)])
    assert again.events == [first, other]
    assert again.new == {other.data.complaint_id}
    priors = await backend.store.by_complainants([KEY], since=NOW - timedelta(days=1))
    assert sorted(p.complaint_id for p in priors) == [
        first.data.complaint_id,
        other.data.complaint_id,
    ]


async def test_members_decided_before_their_incident_are_found_and_linked(
    backend: Backend[ClassificationStore],
) -> None:
    early, late = decided(1), decided(2, incident="billing|阳光花园|20261124T0200+0000")
    await backend.store.save([(early, "阳光花园"), (late, "阳光花园")])
    ids = [early.data.complaint_id, late.data.complaint_id, "CP20261124-9999999999"]
    assert await backend.store.published_without_incident(ids) == [early.data.complaint_id]
    await backend.store.link_incident("billing|阳光花园|20261124T0200+0000", ids[:1])
    # The stored event is never rewritten: it still carries no incident id.
    assert await backend.store.published_without_incident(ids) == [early.data.complaint_id]
    if backend.db is not None:
        names = await backend.db.list_collection_names()
        assert "classifications_published" not in names


@pytest.mark.stack
async def test_what_the_classifier_stores_is_what_its_read_models_declare() -> None:
    """The owner's side of CLASSIFICATIONS and CLASSIFIED_EVENTS (ADR 0008)."""
    event = decided(1)
    async with fresh_database(mongo_server(), "classifier_test") as db:
        await MongoClassificationStore(db).save([(event, "阳光花园")])
        (decision,) = await read(db, CLASSIFICATIONS)
        (stored,) = await read(db, CLASSIFIED_EVENTS)
    assert (decision.id, decision.kind, decision.severity) == (
        event.data.complaint_id,
        Kind.COMPLAINT,
        Severity.P3,
    )
    assert (decision.category, decision.category_top) == ("billing/unknown_deduction", "billing")
    assert stored.classified_event == event
