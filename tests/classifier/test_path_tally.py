"""The wide-area rule reads a path's members only when its tally could reach a threshold
(ADR 0033): the decisions are the same as reading every path, in any order of delivery."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from classifier.adapters.memory import InMemoryClassificationStore
from classifier.domain import Classifier, HistoryWindows, PriorComplaint
from classifier.domain.path_tally import (
    Candidate,
    TallyRow,
    minute_of,
    minutes_around,
    paths_to_read,
)
from contracts import ComplaintNormalized, CustomerTier
from tests._builders.classifier import NOW, Rig, normalized, outage

PATH = "network/no_signal"
WINDOWS = HistoryWindows(mass_incident_minutes=30, mass_incident_min_complaints=5)


def test_a_quiet_path_is_not_read_and_a_busy_one_is() -> None:
    me = Candidate(PATH, NOW, CustomerTier.STANDARD)
    minute = minute_of(NOW)
    three = [TallyRow(PATH, minute - 10, CustomerTier.STANDARD, 3)]
    assert paths_to_read(three, [me], WINDOWS) == []  # 3 stored + itself < 5
    four = [*three, TallyRow(PATH, minute + 30, CustomerTier.STANDARD, 1)]
    assert paths_to_read(four, [me], WINDOWS) == [PATH]  # received after it, decided first
    far = [*three, TallyRow(PATH, minute + 31, CustomerTier.STANDARD, 1)]
    assert paths_to_read(far, [me], WINDOWS) == []  # outside the span
    other = [*three, TallyRow("network/slow_data", minute, CustomerTier.STANDARD, 9)]
    assert paths_to_read(other, [me], WINDOWS) == []
    batch = [me, Candidate(PATH, NOW + timedelta(hours=5), CustomerTier.STANDARD)]
    assert paths_to_read(three, batch, WINDOWS) == [PATH]  # the batch's own count too


def test_important_customers_count_against_their_own_threshold() -> None:
    me = Candidate(PATH, NOW, CustomerTier.GOLD)
    minute = minute_of(NOW)
    one_gold = [TallyRow(PATH, minute, CustomerTier.GOLD, 1)]
    assert paths_to_read(one_gold, [me], WINDOWS) == []  # 2 important < 3, 2 in all < 5
    two_gold = [TallyRow(PATH, minute - 29, CustomerTier.DIAMOND, 2)]
    assert paths_to_read(two_gold, [me], WINDOWS) == [PATH]


def test_the_minutes_cover_the_span_either_side_including_partial_minutes() -> None:
    at = datetime(2026, 11, 24, 2, 0, 30, tzinfo=UTC)
    minutes = minutes_around(at, timedelta(minutes=30))
    assert minutes[0] == minute_of(datetime(2026, 11, 24, 1, 30, 30, tzinfo=UTC))
    assert minutes[-1] == minute_of(datetime(2026, 11, 24, 2, 30, 30, tzinfo=UTC))
    assert len(minutes) == 61
    assert minute_of(at.replace(tzinfo=None)) == minute_of(at)  # stored times are naive UTC


class ReadsEveryPath(InMemoryClassificationStore):
    """The store as before the tally: every path looks busy, so every path is read."""

    async def path_tally(self, categories: Sequence[str], minutes: Sequence[int]) -> list[TallyRow]:
        return [TallyRow(c, m, CustomerTier.GOLD, 10**6) for c in categories for m in minutes]


class CountsPathReads(InMemoryClassificationStore):
    def __init__(self) -> None:
        super().__init__()
        self.paths_read: list[str] = []

    async def by_categories(
        self, categories: Sequence[str], *, since: datetime
    ) -> list[PriorComplaint]:
        self.paths_read += categories
        return await super().by_categories(categories, since=since)


def _rig(classifier: Classifier, store: InMemoryClassificationStore) -> Rig:
    rig = Rig(classifier)
    rig.store = rig.use_case.store = store
    return rig


def _workload(seed: int) -> list[ComplaintNormalized]:
    """Outage complaints (one wide-area path) over four hours, one burst dense enough for an
    incident and stretches near the thresholds, a few important customers, and unrelated
    complaints between."""
    rng = random.Random(seed)
    burst = rng.uniform(0.01, 180.0)
    minutes = [rng.uniform(0.01, 240.0) for _ in range(rng.randint(20, 45))]
    minutes += [burst + rng.uniform(0, 10.0) for _ in range(rng.randint(20, 30))]
    events = []
    for i, minute in enumerate(minutes):
        tier = CustomerTier.PLATINUM if rng.random() < 0.08 else CustomerTier.STANDARD
        events.append(outage(i, minute=minute, tier=tier))
    for n in range(rng.randint(5, 20)):
        at = NOW + timedelta(minutes=rng.uniform(0, 240))
        events.append(normalized(5000 + n, "上个月话费多扣了五十块钱，请退还", key=None, at=at))
    rng.shuffle(events)
    return events


def _outcome(rig: Rig) -> tuple[Any, ...]:
    decisions = sorted(
        (
            e.data.complaint_id,
            e.data.severity,
            e.data.incident_id,
            tuple((f.name, f.count, tuple(f.related), f.detail) for f in e.data.flags),
        )
        for e in rig.publisher.classified()
    )
    incidents = sorted(
        (r.incident_id, r.category, r.area, r.first_seen, r.last_seen, sorted(r.complaint_ids))
        for r in rig.store.incidents.values()
    )
    return tuple(decisions), tuple(incidents)


@pytest.mark.parametrize("seed", range(8))
async def test_decisions_are_the_same_as_reading_every_path(telecom: Classifier, seed: int) -> None:
    events = _workload(seed)
    skipping, every = _rig(telecom, CountsPathReads()), _rig(telecom, ReadsEveryPath())
    rng = random.Random(seed + 100)
    start = 0
    while start < len(events):
        size = rng.randint(1, 15)
        batch = events[start : start + size]
        if rng.random() < 0.15:
            batch = batch + batch[:2]  # a redelivered message within the batch
        for rig in (skipping, every):
            await rig.take(*batch)
        start += size
    assert _outcome(skipping) == _outcome(every)
    assert skipping.store.incidents, "the workload is meant to hold at least one incident"


async def test_quiet_paths_are_not_read(telecom: Classifier) -> None:
    store = CountsPathReads()
    rig = _rig(telecom, store)
    spread = [outage(i, minute=i * 7.0 + 0.5) for i in range(12)]  # ~4 in any half hour
    for event in spread:
        await rig.take(event)
    assert store.paths_read == []
    assert not rig.store.incidents
    dense = [outage(100 + i, minute=200 + i * 0.5) for i in range(25)]
    for start in range(0, 25, 5):
        await rig.take(*dense[start : start + 5])
    assert PATH in store.paths_read
    assert len(rig.store.incidents) == 1
