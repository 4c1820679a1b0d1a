"""Handler tests: history within one batch, mass-incident records, and the business metrics."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from classifier.adapters.memory import IncidentRecord
from classifier.domain import Classifier, IncidentKey
from contracts import ComplaintClassified, ComplaintNormalized, FlagName
from tests._builders.classifier import BILLING, ME, NOW, OUTAGE, Rig, normalized

VAGUE = "我对你们很失望，要投诉"


def burst(first: int, count: int, *, start: timedelta = timedelta()) -> list[ComplaintNormalized]:
    """`count` outage complaints from different people in one area, a minute apart."""
    return [
        normalized(
            first + i, OUTAGE, key=f"ck_{first + i:032d}", at=NOW + start + timedelta(minutes=i)
        )
        for i in range(count)
    ]


def shuffled(events: list[ComplaintNormalized]) -> list[ComplaintNormalized]:
    """The same events in an arbitrary (but reproducible) order."""
    out = list(events)
    random.Random(7).shuffle(out)
    return out


def only_incident(rig: Rig) -> IncidentRecord:
    [record] = rig.store.incidents.values()
    return record


def by_id(events: list[ComplaintClassified]) -> dict[str, ComplaintClassified]:
    return {e.data.complaint_id: e for e in events}


async def test_earlier_complaint_in_the_same_batch_makes_a_repeat(rig: Rig) -> None:
    earlier = normalized(1, BILLING, at=NOW - timedelta(hours=2))
    later = normalized(2, BILLING)
    decided = by_id(await rig.take(later, earlier))
    first, second = decided[earlier.data.complaint_id], decided[later.data.complaint_id]
    assert not first.data.has_flag(FlagName.REPEAT)
    [repeat] = [f for f in second.data.flags if f.name is FlagName.REPEAT]
    assert repeat.related == [earlier.data.complaint_id]
    assert repeat.count == 2


async def test_batch_history_does_not_cross_complainants(rig: Rig) -> None:
    decided = await rig.take(
        normalized(1, BILLING, key=ME, at=NOW - timedelta(hours=1)),
        normalized(2, BILLING, key="ck_" + "d" * 32),
    )
    assert not any(e.data.has_flag(FlagName.REPEAT) for e in decided)


async def test_twenty_complaints_in_one_batch_make_one_incident(
    rig: Rig, telecom: Classifier
) -> None:
    needed = telecom.history_windows.mass_incident_min_complaints
    events = burst(1, needed)
    decided = await rig.take(*shuffled(events))
    record = only_incident(rig)
    assert {e.data.incident_id for e in decided} == {record.incident_id}
    assert sorted(record.complaint_ids) == sorted(e.data.complaint_id for e in events)
    assert record.count == needed
    assert record.first_seen <= events[0].data.received_at
    assert record.last_seen == events[-1].data.received_at
    assert IncidentKey.parse(record.incident_id).area == record.area
    # Only the complaint that reached the threshold carries the flag; the rest are linked.
    flagged = [e for e in decided if e.data.has_flag(FlagName.MASS_INCIDENT)]
    assert [e.data.complaint_id for e in flagged] == [events[-1].data.complaint_id]


async def test_a_burst_split_over_two_batches_is_still_one_incident(
    rig: Rig, telecom: Classifier
) -> None:
    needed = telecom.history_windows.mass_incident_min_complaints
    events = burst(1, needed)
    early = await rig.take(*events[:12])
    late = await rig.take(*events[12:])
    record = only_incident(rig)
    assert sorted(record.complaint_ids) == sorted(e.data.complaint_id for e in events)
    # Published before the threshold was reached: linked through the record, not the event.
    assert {e.data.incident_id for e in early} == {None}
    assert {e.data.incident_id for e in late} == {record.incident_id}


async def test_members_published_before_the_incident_formed_are_linked_over_two_batches(
    rig: Rig, telecom: Classifier
) -> None:
    needed = telecom.history_windows.mass_incident_min_complaints
    events = burst(1, needed + 3)
    early_ids = [e.data.complaint_id for e in events[:12]]
    early = await rig.take(*shuffled(events[:12]))
    late = by_id(await rig.take(*shuffled(events[12:])))
    record = only_incident(rig)
    # The record lists every member, the twelve published before the threshold included.
    assert sorted(record.complaint_ids) == sorted(e.data.complaint_id for e in events)
    # Each complaint was published once; the early ones keep their first decision (ADR 0003).
    assert len(rig.publisher.classified()) == len(events)
    assert {e.data.incident_id for e in early} == {None}
    assert {e.data.incident_id for e in late.values()} == {record.incident_id}
    # In the store, every member is linked to the incident.
    assert rig.store.incident_of == {e.data.complaint_id: record.incident_id for e in events}
    # Downstream: the events that carry the incident list the early members, oldest first.
    flagged = [e for e in late.values() if e.data.has_flag(FlagName.MASS_INCIDENT)]
    assert [e.data.complaint_id for e in flagged] == [
        e.data.complaint_id for e in events[needed - 1 :]
    ]
    for event in flagged:
        [flag] = [f for f in event.data.flags if f.name is FlagName.MASS_INCIDENT]
        assert flag.related == early_ids
    unflagged = [e for e in late.values() if not e.data.has_flag(FlagName.MASS_INCIDENT)]
    assert unflagged, "the batch's members below the threshold are tagged, not flagged"


async def test_redelivered_second_batch_links_the_same_members_once(
    rig: Rig, telecom: Classifier
) -> None:
    events = burst(1, telecom.history_windows.mass_incident_min_complaints)
    await rig.take(*events[:12])
    second = await rig.take(*events[12:])
    record = only_incident(rig)
    before = (list(record.complaint_ids), dict(rig.store.incident_of))
    # The redelivery republishes the stored decisions unchanged (consumers drop them by id).
    assert sorted(await rig.take(*events[12:]), key=lambda e: str(e.id)) == sorted(
        second, key=lambda e: str(e.id)
    )
    assert (list(only_incident(rig).complaint_ids), rig.store.incident_of) == before


async def test_a_complaint_within_the_window_joins_the_open_incident(
    rig: Rig, telecom: Classifier
) -> None:
    needed = telecom.history_windows.mass_incident_min_complaints
    await rig.take(*burst(1, needed))
    [joined] = await rig.take(*burst(100, 1, start=timedelta(minutes=needed + 5)))
    record = only_incident(rig)
    assert joined.data.incident_id == record.incident_id
    assert joined.data.has_flag(FlagName.MASS_INCIDENT)
    assert record.count == needed + 1


async def test_after_the_window_a_lone_complaint_is_no_incident_and_a_new_burst_is_another(
    rig: Rig, telecom: Classifier
) -> None:
    needed = telecom.history_windows.mass_incident_min_complaints
    window = timedelta(minutes=telecom.history_windows.mass_incident_minutes)
    await rig.take(*burst(1, needed))
    later = timedelta(minutes=needed) + window + timedelta(minutes=30)
    [lone] = await rig.take(*burst(100, 1, start=later))
    assert lone.data.incident_id is None
    assert not lone.data.has_flag(FlagName.MASS_INCIDENT)
    second = await rig.take(*burst(200, needed, start=later + timedelta(minutes=5)))
    assert len(rig.store.incidents) == 2
    assert len({e.data.incident_id for e in second}) == 1
    assert second[0].data.incident_id != next(iter(rig.store.incidents))


async def test_redelivered_burst_keeps_its_incident_and_count(
    rig: Rig, telecom: Classifier
) -> None:
    events = burst(1, telecom.history_windows.mass_incident_min_complaints)
    first = await rig.take(*events)
    before = only_incident(rig)
    ids, count = before.incident_id, before.count
    assert {e.id for e in await rig.take(*events)} == {e.id for e in first}
    assert (only_incident(rig).incident_id, only_incident(rig).count) == (ids, count)


async def test_metrics_count_kinds_categories_confidence_and_reviews(rig: Rig) -> None:
    decided = await rig.take(
        normalized(1, BILLING, key="ck_" + "1" * 32),
        normalized(2, OUTAGE, key="ck_" + "2" * 32),
        normalized(3, VAGUE, key="ck_" + "3" * 32),
    )
    sample = rig.registry.get_sample_value
    labels = {
        (
            e.data.kind.value,
            (e.data.category or "none").split("/")[0],
            e.data.severity.value if e.data.severity else "none",
        )
        for e in decided
    }
    total = sum(
        sample(
            "complaints_classified_total",
            dict(zip(("kind", "category", "severity"), lab, strict=True)),
        )
        or 0
        for lab in labels
    )
    assert total == len(decided)
    assert sample("complaints_classification_confidence_count") == len(decided)
    assert sample("complaints_classification_confidence_sum") == pytest.approx(
        sum(e.data.confidence for e in decided)
    )
    reviews = [e for e in decided if e.data.has_flag(FlagName.NEEDS_REVIEW)]
    assert reviews, "the vague complaint should be sent for review"
    assert sample("complaints_needs_review_total") == len(reviews)
    assert sample("complaints_flags_total", {"flag": "needs_review"}) == len(reviews)
