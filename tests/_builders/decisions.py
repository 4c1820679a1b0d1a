"""The classifier's decision as the downstream services' tests receive it: one builder."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from contracts import Channel, ClassifiedComplaint, ComplaintClassified, Kind, Severity


def decision(
    cid: str,
    *,
    at: datetime,
    channel: Channel,
    kind: Kind = Kind.COMPLAINT,
    severity: Severity | None = Severity.P4,
    **fields: Any,
) -> ComplaintClassified:
    """A decision on `cid` received at `at`; category and severity only for a complaint."""
    complaint = kind is Kind.COMPLAINT
    data = ClassifiedComplaint(
        complaint_id=cid,
        channel=channel,
        received_at=at,
        kind=kind,
        category="billing/overcharge" if complaint else None,
        severity=severity if complaint else None,
        confidence=0.9,
        model_version="test",
        policy="telecom",
        policy_version="test",
        **fields,
    )
    return ComplaintClassified.build(
        data=data, subject=cid, source="/complaints/classifier", time=at, cause=cid
    )
