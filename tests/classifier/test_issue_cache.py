"""The place history a classifier keeps per process (ADR 0044): exact beside another replica.

Two `MongoClassificationStore`s on one database are two classifier replicas. Whatever one of
them, or a staff correction, writes to an issue's entries, the other's `by_issues` must return
what a store reading everything afresh returns; and a replica alone answers from its copy.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from classifier.adapters.mongo import MongoClassificationStore
from classifier.adapters.mongo_corrections import MongoCorrectionStore
from classifier.adapters.mongo_history import COLLECTION
from classifier.adapters.mongo_issue_cache import IssueCache
from classifier.domain import PriorComplaint
from classifier.domain.regrade import Correction
from contracts import (
    Channel,
    ClassifiedComplaint,
    ComplaintClassified,
    CustomerTier,
    Kind,
    Severity,
)
from tests.stores import fresh_database, mongo_server

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
SINCE = NOW - timedelta(days=30)
PLACES = [("billing", "阳光花园"), ("network", "阳光花园"), ("billing", "xx工业园")]


def decided(
    number: int, category: str, *, tier: CustomerTier = CustomerTier.STANDARD
) -> ComplaintClassified:
    data = ClassifiedComplaint(
        complaint_id=f"CP20261124-{number:010d}",
        channel=Channel.SMS,
        received_at=NOW + timedelta(seconds=number),
        complainant_key=f"ck_{number:032x}",
        customer_tier=tier,
        kind=Kind.COMPLAINT,
        category=category,
        severity=Severity.P3,
        confidence=0.9,
        model_version="m1",
        policy="telecom",
        policy_version="1",
    )
    return ComplaintClassified.build(
        data=data, subject=data.complaint_id, source="/c", time=NOW, cause=data.complaint_id
    )


def seen(priors: list[PriorComplaint]) -> list[tuple[object, ...]]:
    return sorted(
        (p.complaint_id, p.category, p.area, p.tier, p.incident_id, p.received_at) for p in priors
    )


def correction(number: int, category: str) -> Correction:
    return Correction(
        action_id=f"r-{number}",
        complaint_id=f"CP20261124-{number:010d}",
        occurred_at=NOW + timedelta(hours=1),
        actor="staff-1",
        role="lead",
        kind=Kind.COMPLAINT,
        category=category,
        severity=Severity.P2,
        reason="wrong category",
        flags=(),
    )


@pytest.mark.stack
async def test_a_replica_reads_what_the_others_wrote_and_only_that() -> None:
    async with fresh_database(mongo_server(), "classifier_test") as db:
        one, other = MongoClassificationStore(db), MongoClassificationStore(db)
        await one.ensure_indexes()

        async def same_as_a_fresh_read() -> None:
            fresh = MongoClassificationStore(db)
            for place in PLACES:
                assert seen(await one.by_issues([place], since=SINCE)) == seen(
                    await fresh.by_issues([place], since=SINCE)
                ), place
            assert seen(await one.by_issues(PLACES, since=SINCE)) == seen(
                await fresh.by_issues(PLACES, since=SINCE)
            )

        await one.save([(decided(1, "billing/overcharge"), "阳光花园")])
        await same_as_a_fresh_read()  # read, and kept
        await one.save(
            [(decided(2, "billing/overcharge"), "阳光花园"), (decided(3, "network/x"), "阳光花园")]
        )
        await same_as_a_fresh_read()
        # The other replica inserts into a kept issue, and redelivers one of ours.
        await other.save(
            [
                (decided(4, "billing/unknown_deduction", tier=CustomerTier.GOLD), "阳光花园"),
                (decided(2, "network/y"), "阳光花园"),
                (decided(5, "billing/overcharge"), "xx工业园"),
            ]
        )
        await same_as_a_fresh_read()
        # It links members to an incident, and a correction moves an entry to another issue.
        await other.link_incident("billing|阳光花园|x", ["CP20261124-0000000001"])
        await same_as_a_fresh_read()
        await MongoCorrectionStore(db).apply([correction(2, "network/no_signal")])
        await same_as_a_fresh_read()
        # Alone, a replica answers from its copy: an entry removed behind every count's back
        # is still there for it, gone for a fresh read.
        await one.save([(decided(6, "billing/overcharge"), "阳光花园")])
        await same_as_a_fresh_read()
        await db[COLLECTION].delete_one({"_id": "CP20261124-0000000006"})
        kept = await one.by_issues([("billing", "阳光花园")], since=SINCE)
        fresh = await MongoClassificationStore(db).by_issues([("billing", "阳光花园")], since=SINCE)
        assert "CP20261124-0000000006" in {p.complaint_id for p in kept}
        assert "CP20261124-0000000006" not in {p.complaint_id for p in fresh}


def prior(number: int, *, at: datetime) -> PriorComplaint:
    return PriorComplaint(f"CP20261124-{number:010d}", None, "billing/x", at, "阳光花园")


def test_a_copy_is_read_again_when_its_count_moved_or_its_window_starts_earlier() -> None:
    cache = IssueCache()
    cache.load("a", 3, SINCE, [prior(1, at=NOW)])
    assert cache.stale({"a": 3, "b": 0}, SINCE) == ["b"]
    assert cache.stale({"a": 4}, SINCE) == ["a"]  # another writer
    assert cache.stale({"a": 3}, SINCE - timedelta(days=1)) == ["a"]  # it holds less than that
    cache.written([("a", prior(2, at=NOW)), ("b", prior(3, at=NOW))])  # b: not held
    assert cache.stale({"a": 4, "b": 1}, SINCE) == ["b"]
    assert [p.complaint_id[-1] for p in cache.entries("a", SINCE)] == ["1", "2"]
    assert cache.entries("a", NOW + timedelta(seconds=1)) == []


def test_old_entries_are_dropped_as_the_window_moves_and_the_copy_is_bounded() -> None:
    cache = IssueCache(limit=3)
    cache.load("a", 1, SINCE, [prior(1, at=SINCE), prior(2, at=NOW)])
    assert len(cache.entries("a", SINCE + timedelta(days=2))) == 1
    assert cache.stale({"a": 1}, SINCE + timedelta(days=2)) == []
    cache.load("b", 1, SINCE, [prior(3, at=NOW), prior(4, at=NOW), prior(5, at=NOW)])
    assert cache.stale({"a": 1, "b": 1}, SINCE + timedelta(days=2)) == ["a", "b"]  # dropped
