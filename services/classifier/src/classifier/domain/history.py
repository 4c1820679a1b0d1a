"""Repeat complaints, hot issues and mass incidents from earlier complaints (DOMAIN.md §4)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import attrgetter

from classifier.domain.burst import busiest, members_of
from classifier.domain.decision import History, HistoryWindows, PriorComplaint
from classifier.domain.incident import WIDE, IncidentKey
from classifier.domain.policy import HistoryPolicy
from contracts import CustomerTier, Flag, FlagName, Reason, Severity

_COMPLAINT_ID = re.compile(r"^CP[0-9]{8}-[0-9A-Z]{10}$")
_MAX_RELATED = 50
_RECEIVED = attrgetter("received_at")


@dataclass(frozen=True)
class HistoryFinding:
    """A flag raised from history, with its severity and explanation."""

    flag: Flag
    severity: Severity
    reason: Reason
    incident_key: str | None = None
    incident_members: tuple[str, ...] = ()
    """For a mass incident: every earlier complaint of the burst, oldest first, uncapped."""


def top_of(category: str | None) -> str | None:
    """First segment of a category path."""
    return category.split("/", 1)[0] if category else None


def assess_history(
    *,
    category: str,
    area: str | None,
    complainant_key: str | None,
    received_at: datetime,
    history: History,
    policy: HistoryPolicy,
    tier: CustomerTier = CustomerTier.STANDARD,
) -> list[HistoryFinding]:
    """Every history rule that fires for a complaint of `category` (a path or its top) received
    at `received_at`."""
    if not (history.same_complainant or history.same_category_recent) and _alone_is_no_pattern(
        policy.windows
    ):
        return []  # the single path's usual case: nothing earlier, and one complaint is no pattern
    top = top_of(category)
    findings = [
        _repeat(top=top, received_at=received_at, priors=history.same_complainant, policy=policy)
    ]
    if area is not None:
        same_issue = [
            p for p in history.same_category_recent if p.area == area and top_of(p.category) == top
        ]
        findings.append(
            _hot_issue(
                same_issue=same_issue,
                complainant_key=complainant_key,
                received_at=received_at,
                policy=policy,
            )
        )
    findings.append(
        mass_incident(
            priors=list(history.same_category_recent),
            complaint=PriorComplaint(
                complaint_id="",
                complainant_key=complainant_key,
                category=category,
                received_at=received_at,
                area=area,
                tier=tier,
            ),
            policy=policy,
        )
    )
    return [finding for finding in findings if finding is not None]


def _alone_is_no_pattern(windows: HistoryWindows) -> bool:
    """Whether a complaint with no earlier ones can raise no history flag: no repeat without an
    earlier complaint, and one complainant (one important customer at most) is below every
    hot-issue and mass-incident threshold. Packs may set a threshold of 1."""
    return (
        windows.hot_issue_min_complainants > 1
        and windows.mass_incident_min_complaints > 1
        and windows.mass_incident_min_important > 1
    )


def _finding(
    *,
    flag: FlagName,
    severity: Severity,
    detail: str,
    count: int,
    related: list[PriorComplaint],
    matched: list[str] | None = None,
    incident_key: str | None = None,
    incident_members: tuple[str, ...] = (),
) -> HistoryFinding:
    """A history rule's flag, severity and explanation, worded the same way for every rule; the
    explanation quotes `matched`, else the related complaints' ids."""
    quoted = [p.complaint_id for p in related] if matched is None else matched
    return HistoryFinding(
        flag=Flag(name=flag, detail=detail, count=count, related=_related(related)),
        severity=severity,
        reason=Reason(
            rule=f"history.{flag.value}",
            effect=f"severity={severity.value}; flag={flag.value}; count={count}",
            matched=quoted[:_MAX_RELATED],
        ),
        incident_key=incident_key,
        incident_members=incident_members,
    )


def _related(priors: list[PriorComplaint]) -> list[str]:
    """Ids of earlier complaints that are valid case numbers, newest first, capped."""
    ordered = sorted(priors, key=_RECEIVED, reverse=True)
    related: list[str] = []
    for prior in ordered:
        if _COMPLAINT_ID.match(prior.complaint_id):
            related.append(prior.complaint_id)
            if len(related) == _MAX_RELATED:
                break
    return related


def _repeat(
    *,
    top: str | None,
    received_at: datetime,
    priors: tuple[PriorComplaint, ...],
    policy: HistoryPolicy,
) -> HistoryFinding | None:
    """Same complainant, same top category, within the repeat window."""
    since = received_at - timedelta(days=policy.windows.repeat_days)
    earlier = [
        p for p in priors if top_of(p.category) == top and since <= p.received_at <= received_at
    ]
    if not earlier:
        return None
    count = len(earlier) + 1
    detail = f"第{count}次投诉: {len(earlier)} earlier within {policy.windows.repeat_days} days"
    return _finding(
        flag=FlagName.REPEAT,
        severity=policy.repeat_severity,
        detail=detail,
        count=count,
        related=earlier,
    )


def _hot_issue(
    *,
    same_issue: list[PriorComplaint],
    complainant_key: str | None,
    received_at: datetime,
    policy: HistoryPolicy,
) -> HistoryFinding | None:
    """At least N distinct complainants with the same category and area within the window.

    Complaints are decided in no guaranteed receipt order (partitions, redelivery): the window
    is the one around this complaint with the most complainants, counting those received after
    it but decided first, so the complaint decided when the count is reached carries the flag
    whatever the order, never none of them.
    """
    span = timedelta(days=policy.windows.hot_issue_days)
    recent = _most_people(same_issue, at=received_at, span=span, me=complainant_key)
    people = {p.complainant_key or f"anonymous:{p.complaint_id}" for p in recent}  # `_person`
    distinct = len(people - {complainant_key or ""}) + 1
    if distinct < policy.windows.hot_issue_min_complainants:
        return None
    detail = f"{distinct} complainants within {policy.windows.hot_issue_days} days"
    return _finding(
        flag=FlagName.HOT_ISSUE,
        severity=policy.hot_issue_severity,
        detail=detail,
        count=distinct,
        related=recent,
    )


def _issues(category: str, area: str | None) -> list[tuple[str, str]]:
    """Issues a complaint can belong to, most specific first: its top category in the place its
    text names, then its whole category path anywhere (only with a subcategory)."""
    top = top_of(category) or ""
    issues = [(top, area)] if area else []
    if "/" in category:
        issues.append((category, WIDE))
    return issues


def mass_incident(
    *, priors: list[PriorComplaint], complaint: PriorComplaint, policy: HistoryPolicy
) -> HistoryFinding | None:
    """N complaints, or M important customers, about one issue within minutes: one incident.

    Complaints are decided in no guaranteed receipt order (partitions, redelivery), so the burst
    is the busiest window around this complaint, counting those received after it too.
    """
    windows = policy.windows
    if len(priors) + 1 < min(
        windows.mass_incident_min_complaints, windows.mass_incident_min_important
    ):
        return None  # fewer complaints than either threshold, whatever their window and tier
    span = timedelta(minutes=windows.mass_incident_minutes)
    at = complaint.received_at
    near = [
        p for p in priors if at - span <= p.received_at <= at + span and not p.in_closed_incident
    ]
    if len(near) + 1 < windows.mass_incident_min_complaints and (
        sum(p.tier in windows.important_tiers for p in (*near, complaint))
        < windows.mass_incident_min_important
    ):
        return None  # every burst is part of `near`: too few complaints or people to count
    for (category, area), members in members_of(
        near, _issues(complaint.category or "", complaint.area)
    ):
        burst = busiest(members, at=at, span=span)
        count = len(burst) + 1
        important = _important_people([*burst, complaint], windows.important_tiers)
        by_count = count >= windows.mass_incident_min_complaints
        if not by_count and important < windows.mass_incident_min_important:
            continue
        start = min((p.received_at for p in burst), default=complaint.received_at)
        key = IncidentKey(category=category, area=area, start=start)
        detail = (
            f"{count} complaints within {windows.mass_incident_minutes} minutes"
            if by_count
            else f"{important} important customers within {windows.mass_incident_minutes} minutes"
        )
        return _finding(
            flag=FlagName.MASS_INCIDENT,
            severity=policy.mass_incident_severity,
            detail=detail,
            count=count,
            related=burst,
            matched=[key.issue],
            incident_key=str(key),
            incident_members=tuple(
                p.complaint_id for p in sorted(burst, key=lambda p: (p.received_at, p.complaint_id))
            ),
        )
    return None


def _person(prior: PriorComplaint) -> str:
    """Who complained; anonymous complaints each count as a distinct person (nothing says they
    are the same one)."""
    return prior.complainant_key or f"anonymous:{prior.complaint_id}"


def _most_people(
    priors: list[PriorComplaint], *, at: datetime, span: timedelta, me: str | None
) -> list[PriorComplaint]:
    """The others in the window of length `span` that holds `at` and the most complainants
    besides `me`. In receipt order (nothing after `at`) that is the span up to `at`; otherwise
    every window starting at a complaint up to `at`, or at `at`, is counted (two pointers)."""
    low, high = at - span, at + span
    near = sorted((p for p in priors if low <= p.received_at <= high), key=_RECEIVED)
    if not near or near[-1].received_at <= at:
        return near
    people: Counter[str] = Counter()
    best, left, right = (-1, 0, 0), 0, 0
    for start in sorted({p.received_at for p in near if p.received_at < at} | {at}):
        while right < len(near) and near[right].received_at <= start + span:
            people[_person(near[right])] += 1
            right += 1
        while near[left].received_at < start:
            gone = _person(near[left])
            people[gone] -= 1
            if not people[gone]:
                del people[gone]
            left += 1
        count = len(people) - (me in people)
        if count > best[0]:
            best = (count, left, right)
    return near[best[1] : best[2]]


def _important_people(complaints: list[PriorComplaint], tiers: frozenset[CustomerTier]) -> int:
    """Distinct important complainants (anonymous ones each count as one person)."""
    return len({p.complainant_key or f"anonymous:{id(p)}" for p in complaints if p.tier in tiers})
