"""Duplicates: the same complainant sending near-identical text again within a window."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from intake.domain.fingerprint import is_near_duplicate
from intake.domain.results import Accepted

DUPLICATE_WINDOW = timedelta(hours=72)
"""*Default*: a re-sent SMS, or the same text sent by web after a call, arrives within days;
later contact about the same issue is a repeat (classifier, 90 days), not a duplicate."""


@dataclass(frozen=True)
class EarlierComplaint:
    """What the store keeps about an accepted complaint for duplicate checks."""

    complaint_id: str
    complainant_key: str
    received_at: datetime
    fingerprint: str


def find_original(
    *,
    accepted: Accepted,
    earlier: Iterable[EarlierComplaint],
    window: timedelta = DUPLICATE_WINDOW,
) -> str | None:
    """The id of the first earlier complaint this one near-duplicates, if any."""
    complaint = accepted.complaint
    if complaint.complainant_key is None:
        return None
    matches = [
        candidate
        for candidate in earlier
        if candidate.complaint_id != complaint.complaint_id
        and candidate.complainant_key == complaint.complainant_key
        and timedelta(0) <= complaint.received_at - candidate.received_at <= window
        and is_near_duplicate(candidate.fingerprint, accepted.fingerprint)
    ]
    if not matches:
        return None
    return min(matches, key=lambda candidate: candidate.received_at).complaint_id


def as_duplicate(accepted: Accepted, *, original_id: str) -> Accepted:
    """The same acceptance, recorded as a duplicate linked to `original_id`."""
    complaint = accepted.complaint.model_copy(update={"duplicate_of": original_id})
    return Accepted(
        complaint=complaint,
        contact=accepted.contact,
        original=accepted.original,
        fingerprint=accepted.fingerprint,
    )
