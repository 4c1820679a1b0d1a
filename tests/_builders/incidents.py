"""The classifier's news of a wide-area no-signal incident, as downstream tests receive it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from contracts import (
    Channel,
    CustomerTier,
    IncidentChange,
    IncidentChanged,
    IncidentCounts,
    IncidentRecord,
)


def incident(
    change: IncidentChange,
    members: Sequence[str],
    *,
    incident_id: str,
    sequence: int,
    at: datetime,
    cause: str | None = None,
    **fields: Any,
) -> IncidentChanged:
    """The `change` of `incident_id` at `at` naming `members`, all by hotline from standard
    customers unless `fields` say otherwise (first and last seen at `at`, opened with them)."""
    n = len(members)
    record = IncidentRecord.model_validate(
        {
            "incident_id": incident_id,
            "change": change,
            "sequence": sequence,
            "category": "network/no_signal",
            "issue_key": "network/no_signal|*",
            "opened_by": "ordinary",
            "opened_with": n,
            "first_seen": at,
            "last_seen": at,
            "counts": IncidentCounts(
                total=n, by_channel={Channel.HOTLINE: n}, by_tier={CustomerTier.STANDARD: n}
            ),
            "member_ids": list(members),
            **fields,
        }
    )
    return IncidentChanged.build(
        data=record,
        subject=incident_id,
        source="/complaints/classifier",
        time=at,
        cause=cause or f"{change.value}|{sequence}",
    )
