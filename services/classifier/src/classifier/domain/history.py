"""Repeat complaints, hot issues and mass incidents from earlier complaints (DOMAIN.md §4)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from classifier.domain.decision import History, PriorComplaint
from classifier.domain.incident import IncidentKey
from classifier.domain.policy import HistoryPolicy
from contracts import Flag, FlagName, Reason, Severity

_COMPLAINT_ID = re.compile(r"^CP[0-9]{8}-[0-9A-Z]{10}$")
_MAX_RELATED = 50


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
) -> list[HistoryFinding]:
    """Every history rule that fires for a complaint of `category` received at `received_at`."""
    top = top_of(category)
    findings = [
        _repeat(top=top, received_at=received_at, priors=history.same_complainant, policy=policy)
    ]
    if area is not None:
        same_issue = [
            p
            for p in history.same_category_recent
            if top_of(p.category) == top and p.area == area and p.received_at <= received_at
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
            _mass_incident(
                same_issue=same_issue, top=top, area=area, received_at=received_at, policy=policy
            )
        )
    return [finding for finding in findings if finding is not None]


def _finding(
    *,
    flag: FlagName,
    severity: Severity,
    detail: str,
    count: int,
    related: list[PriorComplaint],
    matched: list[str],
    incident_key: str | None = None,
    incident_members: tuple[str, ...] = (),
) -> HistoryFinding:
    """A history rule's flag, severity and explanation, worded the same way for every rule."""
    return HistoryFinding(
        flag=Flag(name=flag, detail=detail, count=count, related=_related(related)),
        severity=severity,
        reason=Reason(
            rule=f"history.{flag.value}",
            effect=f"severity={severity.value}; flag={flag.value}; count={count}",
            matched=matched[:_MAX_RELATED],
        ),
        incident_key=incident_key,
        incident_members=incident_members,
    )


def _related(priors: list[PriorComplaint]) -> list[str]:
    """Ids of earlier complaints that are valid case numbers, newest first, capped."""
    ordered = sorted(priors, key=lambda p: p.received_at, reverse=True)
    return [p.complaint_id for p in ordered if _COMPLAINT_ID.match(p.complaint_id)][:_MAX_RELATED]


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
        matched=[p.complaint_id for p in earlier],
    )


def _hot_issue(
    *,
    same_issue: list[PriorComplaint],
    complainant_key: str | None,
    received_at: datetime,
    policy: HistoryPolicy,
) -> HistoryFinding | None:
    """At least N distinct complainants with the same category and area within the window."""
    since = received_at - timedelta(days=policy.windows.hot_issue_days)
    recent = [p for p in same_issue if p.received_at >= since]
    # Anonymous complaints each count as a distinct person: nothing says they are the same one.
    people = {p.complainant_key or f"anonymous:{p.complaint_id}" for p in recent}
    people.discard(complainant_key or "")
    distinct = len(people) + 1
    if distinct < policy.windows.hot_issue_min_complainants:
        return None
    detail = f"{distinct} complainants within {policy.windows.hot_issue_days} days"
    return _finding(
        flag=FlagName.HOT_ISSUE,
        severity=policy.hot_issue_severity,
        detail=detail,
        count=distinct,
        related=recent,
        matched=[p.complaint_id for p in recent],
    )


def _mass_incident(
    *,
    same_issue: list[PriorComplaint],
    top: str | None,
    area: str,
    received_at: datetime,
    policy: HistoryPolicy,
) -> HistoryFinding | None:
    """At least N complaints with the same category and area within minutes: one incident."""
    since = received_at - timedelta(minutes=policy.windows.mass_incident_minutes)
    burst = [p for p in same_issue if p.received_at >= since]
    count = len(burst) + 1
    if count < policy.windows.mass_incident_min_complaints:
        return None
    start = min(p.received_at for p in burst)
    incident_key = str(IncidentKey(category=top or "", area=area, start=start))
    detail = f"{count} complaints within {policy.windows.mass_incident_minutes} minutes"
    return _finding(
        flag=FlagName.MASS_INCIDENT,
        severity=policy.mass_incident_severity,
        detail=detail,
        count=count,
        related=burst,
        matched=[area],
        incident_key=incident_key,
        incident_members=tuple(
            p.complaint_id for p in sorted(burst, key=lambda p: (p.received_at, p.complaint_id))
        ),
    )
