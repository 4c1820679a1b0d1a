"""The mass-incident rule's burst, checked against its definition written out the slow way.

`history.mass_incident` finds the issue's members in one pass and the busiest window with two
pointers (session 13); the definition: among the windows of length `span` that start at a member
received up to `at` and reach `at`, or start at `at`, the first with the most members. Random
histories with ties in receipt time, members after `at`, other places and paths, and closed
incidents are decided both ways.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from classifier.domain.decision import HistoryWindows, PriorComplaint
from classifier.domain.history import mass_incident
from classifier.domain.incident import WIDE, IncidentKey, covers
from classifier.domain.policy import HistoryPolicy
from contracts import CustomerTier, Severity

AT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
SPAN = timedelta(minutes=30)
PATHS = ["network/no_signal", "network/slow", "billing/overcharge"]
AREAS = ["阳光花园", "xx工业园", None]
TIERS = [CustomerTier.STANDARD, CustomerTier.STANDARD, CustomerTier.GOLD]


def reference(
    priors: list[PriorComplaint], complaint: PriorComplaint, windows: HistoryWindows
) -> tuple[str, int, tuple[str, ...]] | None:
    """(incident key, count, members) by the rule's definition, or None."""
    at = complaint.received_at
    near = [
        p for p in priors if at - SPAN <= p.received_at <= at + SPAN and not p.in_closed_incident
    ]
    issues = [(complaint.category.split("/")[0], complaint.area)] if complaint.area else []
    issues += [(complaint.category, WIDE)] if "/" in complaint.category else []
    for category, area in issues:
        members = [
            p for p in near if covers(category, area, of_category=p.category, of_area=p.area)
        ]
        ordered = sorted(members, key=lambda p: p.received_at)
        starts = [at, *(p.received_at for p in ordered if at - SPAN <= p.received_at < at)]
        windows_at = [
            [p for p in ordered if start <= p.received_at <= start + SPAN] for start in starts
        ]
        burst = max(windows_at, key=len)  # the first of the longest: `at`'s, then by start
        important = len(
            {p.complainant_key for p in [*burst, complaint] if p.tier in windows.important_tiers}
        )
        if (
            len(burst) + 1 < windows.mass_incident_min_complaints
            and important < windows.mass_incident_min_important
        ):
            continue
        start = min((p.received_at for p in burst), default=at)
        members_ids = tuple(
            p.complaint_id for p in sorted(burst, key=lambda p: (p.received_at, p.complaint_id))
        )
        return str(IncidentKey(category, area, start)), len(burst) + 1, members_ids
    return None


def test_the_burst_is_the_one_the_rule_defines() -> None:
    rng = random.Random(13)
    windows = HistoryWindows(mass_incident_min_complaints=6, mass_incident_min_important=3)
    policy = HistoryPolicy(
        windows=windows,
        repeat_severity=Severity.P3,
        hot_issue_severity=Severity.P2,
        mass_incident_severity=Severity.P2,
    )
    fired = 0
    for case in range(400):
        priors = [
            PriorComplaint(
                complaint_id=f"CP20261124-{case:04d}{n:06d}",
                complainant_key=f"ck_{rng.randrange(40):032x}",
                category=rng.choice(PATHS),
                # whole minutes: many ties
                received_at=AT + timedelta(minutes=rng.randrange(-70, 50)),
                area=rng.choice(AREAS),
                tier=rng.choice(TIERS),
                in_closed_incident=rng.random() < 0.05,
            )
            for n in range(rng.randrange(0, 40))
        ]
        complaint = PriorComplaint(
            complaint_id="",
            complainant_key="ck_" + "f" * 32,
            category=rng.choice(PATHS),
            received_at=AT,
            area=rng.choice(AREAS),
            tier=rng.choice(TIERS),
        )
        found = mass_incident(priors=priors, complaint=complaint, policy=policy)
        expected = reference(priors, complaint, windows)
        got = (found.incident_key, found.flag.count, found.incident_members) if found else None
        assert got == expected, case
        fired += found is not None
    assert 50 < fired < 350  # both outcomes are exercised
