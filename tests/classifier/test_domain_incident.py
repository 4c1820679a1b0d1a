"""Incident keys, sightings and the per-batch history index."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from classifier.domain import (
    BatchHistory,
    HistoryWindows,
    IncidentKey,
    IncidentSighting,
    PriorComplaint,
    merge_sightings,
)
from classifier.domain.history import assess_history
from classifier.domain.policy import HistoryPolicy
from contracts import CustomerTier

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
names = st.text(
    alphabet=st.characters(exclude_characters="|", exclude_categories=["Cs"]), min_size=1
)


@given(
    category=names,
    area=names,
    start=st.datetimes(
        # hypothesis wants naive bounds; the zone comes from `timezones`.
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001
        max_value=datetime(2100, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
)
def test_key_round_trips_to_the_minute(category: str, area: str, start: datetime) -> None:
    key = IncidentKey(category=category, area=area, start=start)
    back = IncidentKey.parse(str(key))
    assert (back.category, back.area) == (category, area)
    assert back.start == start.replace(second=0, microsecond=0)


@pytest.mark.parametrize(
    "bad", ["", "network|20261124T0200+0000", "|a|20261124T0200+0000", "n|a|yesterday"]
)
def test_malformed_keys_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="not an incident key"):
        IncidentKey.parse(bad)


def sighting(area: str, start_min: int, end_min: int, *ids: str) -> IncidentSighting:
    key = IncidentKey(category="network", area=area, start=T0 + timedelta(minutes=start_min))
    return IncidentSighting(key=key, last_seen=T0 + timedelta(minutes=end_min), complaint_ids=ids)


def test_overlapping_sightings_of_one_issue_merge_and_others_do_not() -> None:
    merged = merge_sightings(
        [
            sighting("A", 0, 19, "1", "2"),
            sighting("A", 5, 24, "2", "3"),
            sighting("B", 5, 24, "4"),
            sighting("A", 60, 79, "5"),
        ]
    )
    assert [(s.key.area, s.first_seen, s.complaint_ids) for s in merged] == [
        ("A", T0, ("1", "2", "3")),
        ("B", T0 + timedelta(minutes=5), ("4",)),
        ("A", T0 + timedelta(minutes=60), ("5",)),
    ]
    assert merged[0].last_seen == T0 + timedelta(minutes=24)


def prior(cid: str, minute: int, key: str | None, category: str | None) -> PriorComplaint:
    return PriorComplaint(cid, key, category, T0 + timedelta(minutes=minute), "A")


def test_batch_history_sees_only_strictly_earlier_complaints_once() -> None:
    stored = [prior("s1", 0, "me", "billing/x"), prior("s1", 0, "me", "billing/x")]
    history = BatchHistory(stored)
    history.add(prior("b1", 5, "other", "billing/y"))
    history.add(prior("b2", 10, "me", "network"))
    seen = history.for_complaint(
        complaint_id="b3", complainant_key="me", category="billing/z", received_at=T0
    )
    # Same instant: ties break on the complaint id, and "s1" sorts after "b3".
    assert seen.same_complainant == ()
    later = history.for_complaint(
        complaint_id="b4",
        complainant_key="me",
        category="billing",
        received_at=T0 + timedelta(minutes=7),
    )
    assert [p.complaint_id for p in later.same_complainant] == ["s1"]
    assert [p.complaint_id for p in later.same_category_recent] == ["s1", "b1"]
    assert "b2" in history


CATEGORIES = ["billing", "billing/overcharge", "billing/refund", "network/outage", None]
priors_strategy = st.lists(
    st.builds(
        PriorComplaint,
        complaint_id=st.sampled_from([f"CP20261124-{i:010d}" for i in range(40)]),
        complainant_key=st.sampled_from(["me", "you", "them", None]),
        category=st.sampled_from(CATEGORIES),
        received_at=st.integers(0, 90).map(lambda m: T0 + timedelta(minutes=m)),
        area=st.sampled_from(["阳光花园", "东区", None]),
        tier=st.sampled_from(list(CustomerTier)),
        in_closed_incident=st.booleans(),
    ),
    max_size=40,
)


@given(
    priors=priors_strategy,
    category=st.sampled_from(CATEGORIES[:4]),
    area=st.sampled_from(["阳光花园", "东区", None]),
    minute=st.integers(0, 90),
    tier=st.sampled_from(list(CustomerTier)),
    thresholds=st.tuples(st.integers(1, 6), st.integers(1, 4), st.integers(1, 4)),
)
def test_history_of_the_complaints_issues_finds_what_the_whole_category_finds(  # noqa: PLR0917
    priors: list[PriorComplaint],
    category: str,
    area: str | None,
    minute: int,
    tier: CustomerTier,
    thresholds: tuple[int, int, int],
) -> None:
    """The service hands `decide` only the complaint's issues: every history rule
    finds exactly what it finds in the whole top category — flags, counts, related, members."""
    complaints, important, people = thresholds
    windows = HistoryWindows(
        hot_issue_min_complainants=people,
        mass_incident_minutes=20,
        mass_incident_min_complaints=complaints,
        mass_incident_min_important=important,
    )
    policy = HistoryPolicy(windows=windows)
    history = BatchHistory(priors)
    at = T0 + timedelta(minutes=minute)
    ask = {"complaint_id": "CP20261124-9999999999", "complainant_key": "me", "received_at": at}
    whole = history.for_complaint(category=category, **ask)  # type: ignore[arg-type]
    narrow = history.for_complaint(category=category, area=area, **ask)  # type: ignore[arg-type]
    assert set(narrow.same_category_recent) <= set(whole.same_category_recent)
    found = [
        assess_history(
            category=category,
            area=area,
            complainant_key="me",
            received_at=at,
            history=seen,
            policy=policy,
            tier=tier,
        )
        for seen in (whole, narrow)
    ]
    assert found[0] == found[1]
