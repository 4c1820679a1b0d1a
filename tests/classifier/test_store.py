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
from classifier.adapters.mongo_history import BACKFILLED
from classifier.domain.path_tally import minute_of
from classifier.ports import ClassificationStore
from contracts import (
    Channel,
    ClassifiedComplaint,
    ComplaintClassified,
    CustomerTier,
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


def in_place(number: int, category: str, *, at: datetime = NOW) -> ComplaintClassified:
    event = decided(number, at=at)
    return event.model_copy(update={"data": event.data.model_copy(update={"category": category})})


async def test_history_reads_return_exactly_the_pairs_and_paths_asked_for(
    backend: Backend[ClassificationStore],
) -> None:
    """The history the classifier's rules count (ADR 0030): by (top category, area), by path."""
    await backend.store.save(
        [
            (in_place(1, "billing/overcharge"), "阳光花园"),
            (in_place(2, "billing/unknown_deduction"), "阳光花园"),
            (in_place(3, "billing/overcharge"), "xx工业园"),
            (in_place(4, "network/no_signal"), "阳光花园"),
            (in_place(5, "billing/overcharge"), None),
            (in_place(6, "billing/overcharge", at=NOW - timedelta(days=2)), "阳光花园"),
        ]
    )
    since = NOW - timedelta(days=1)
    issues = await backend.store.by_issues([("billing", "阳光花园")], since=since)
    assert sorted(p.complaint_id[-1] for p in issues) == ["1", "2"]
    assert {(p.area, p.tier) for p in issues} == {("阳光花园", CustomerTier.STANDARD)}
    # Asking for every top × every area of a batch returns only the pairs asked for.
    crossed = await backend.store.by_issues(
        [("billing", "xx工业园"), ("network", "阳光花园")], since=since
    )
    assert sorted(p.complaint_id[-1] for p in crossed) == ["3", "4"]
    paths = await backend.store.by_categories(["billing/overcharge"], since=since)
    assert sorted(p.complaint_id[-1] for p in paths) == ["1", "3", "5"]
    wider = await backend.store.by_categories(["billing/overcharge"], since=since - timedelta(3))
    assert len(wider) == 4
    await backend.store.link_incident("billing|阳光花园|x", [issues[0].complaint_id])
    again = await backend.store.by_issues([("billing", "阳光花园")], since=since)
    assert {p.complaint_id: p.incident_id for p in again} == {
        issues[0].complaint_id: "billing|阳光花园|x",
        issues[1].complaint_id: None,
    }
    mine = await backend.store.by_complainants([KEY], since=since)
    assert len(mine) == 5


async def test_a_redelivered_decision_keeps_its_first_history(
    backend: Backend[ClassificationStore],
) -> None:
    await backend.store.save([(in_place(1, "billing/overcharge"), "阳光花园")])
    await backend.store.save([(in_place(1, "network/no_signal"), "阳光花园")])
    since = NOW - timedelta(days=1)
    assert len(await backend.store.by_categories(["billing/overcharge"], since=since)) == 1
    assert await backend.store.by_categories(["network/no_signal"], since=since) == []


async def counted(
    store: ClassificationStore, path: str, minutes: list[int]
) -> dict[tuple[int, CustomerTier], int]:
    """The path tally of `path` in `minutes`, per (minute, tier)."""
    rows = await store.path_tally([path], minutes)
    assert {r.category for r in rows} <= {path}
    totals: dict[tuple[int, CustomerTier], int] = {}
    for r in rows:
        totals[(r.minute, r.tier)] = totals.get((r.minute, r.tier), 0) + r.count
    return totals


async def read_by_minute(
    store: ClassificationStore, path: str, minutes: list[int]
) -> dict[tuple[int, CustomerTier], int]:
    """What the path read returns, counted as the tally counts it."""
    totals: dict[tuple[int, CustomerTier], int] = {}
    for p in await store.by_categories([path], since=NOW - timedelta(days=1)):
        if (minute := minute_of(p.received_at)) in minutes:
            totals[(minute, p.tier)] = totals.get((minute, p.tier), 0) + 1
    return totals


def tiered(number: int, category: str, tier: CustomerTier, *, at: datetime) -> ComplaintClassified:
    event = in_place(number, category, at=at)
    return event.model_copy(update={"data": event.data.model_copy(update={"customer_tier": tier})})


async def test_the_path_tally_counts_every_decision_the_path_read_returns(
    backend: Backend[ClassificationStore],
) -> None:
    """ADR 0033: never fewer than stored, per path, minute and tier; more after a redelivery."""
    decisions = [
        (in_place(1, "billing/overcharge"), "阳光花园"),
        (in_place(2, "billing/overcharge", at=NOW + timedelta(seconds=59)), None),
        (tiered(3, "billing/overcharge", CustomerTier.GOLD, at=NOW + timedelta(minutes=1)), None),
        (in_place(4, "billing/overcharge", at=NOW + timedelta(minutes=29)), "xx工业园"),
        (in_place(5, "network/no_signal"), None),
        (in_place(6, "billing", at=NOW), None),  # a top category alone: no wide-area issue
    ]
    await backend.store.save(decisions)
    minutes = list(range(minute_of(NOW) - 30, minute_of(NOW) + 31))
    path = "billing/overcharge"
    exact = await read_by_minute(backend.store, path, minutes)
    assert exact == {
        (minute_of(NOW), CustomerTier.STANDARD): 2,
        (minute_of(NOW) + 1, CustomerTier.GOLD): 1,
        (minute_of(NOW) + 29, CustomerTier.STANDARD): 1,
    }
    assert await counted(backend.store, path, minutes) == exact
    assert await counted(backend.store, path, [minute_of(NOW) + 2]) == {}
    assert await counted(backend.store, "network/no_signal", minutes) == {
        (minute_of(NOW), CustomerTier.STANDARD): 1
    }
    await backend.store.save(decisions[:2])  # redelivered: counted again or not, never fewer
    again = await counted(backend.store, path, minutes)
    assert all(again.get(key, 0) >= n for key, n in exact.items())
    assert await backend.store.path_tally([], minutes) == []


@pytest.mark.stack
async def test_a_store_written_before_the_tally_existed_is_counted_at_start() -> None:
    async with fresh_database(mongo_server(), "classifier_test") as db:
        store = MongoClassificationStore(db)
        await store.ensure_indexes()
        await store.save([(in_place(1, "billing/overcharge"), None), (decided(2), "阳光花园")])
        minutes = [minute_of(NOW)]
        await db["classification_tally"].drop()
        assert await store.path_tally(["billing/overcharge"], minutes) == []
        await store.ensure_indexes()
        await store.ensure_indexes()  # a second start counts nothing twice
        assert await counted(store, "billing/overcharge", minutes) == {
            (minute_of(NOW), CustomerTier.STANDARD): 1
        }
        assert await counted(store, "billing/unknown_deduction", minutes) == {
            (minute_of(NOW), CustomerTier.STANDARD): 1
        }


@pytest.mark.stack
async def test_history_entries_are_small_and_keyed_for_the_local_pushdown() -> None:
    """Nine plain fields per entry; the issue key is plain ASCII (what our FerretDB build
    narrows a query by, ADR 0004 fix 4), whatever script the area is written in."""
    async with fresh_database(mongo_server(), "classifier_test") as db:
        await MongoClassificationStore(db).save([(in_place(1, "billing/overcharge"), "阳光花园")])
        (entry,) = await db["classification_history"].find({}).to_list(None)
    assert len(entry) == 9
    assert entry["issue"].isascii()
    assert entry["issue"].isalnum()
    assert (entry["category"], entry["area"], entry["kind"]) == (
        "billing/overcharge",
        "阳光花园",
        "complaint",
    )


@pytest.mark.stack
async def test_a_store_written_before_the_history_existed_is_backfilled_at_start() -> None:
    async with fresh_database(mongo_server(), "classifier_test") as db:
        store = MongoClassificationStore(db)
        await store.save([(in_place(1, "billing/overcharge"), "阳光花园"), (decided(2), None)])
        await db["classification_history"].drop()
        assert await store.by_categories(["billing/overcharge"], since=NOW) == []
        await store.ensure_indexes()
        await store.ensure_indexes()  # a second start copies nothing twice
        assert await db["classification_history"].count_documents({}) == 3  # with the marker
        # A copy cut short (no marker yet) is completed at the next start.
        await db["classification_history"].delete_many(
            {"_id": {"$in": [BACKFILLED, decided(2).data.complaint_id]}}
        )
        await store.ensure_indexes()
        assert len(await store.by_complainants([KEY], since=NOW)) == 2
        found = await store.by_issues([("billing", "阳光花园")], since=NOW)
        assert [p.complaint_id for p in found] == [in_place(1, "x").data.complaint_id]
        assert await db["classification_history"].count_documents({}) == 3
