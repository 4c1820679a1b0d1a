"""What the intake use-case needs from the outside world."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from contracts import ComplaintNormalized
from intake.domain import Contact
from servicekit.outbox import Stored


@dataclass(frozen=True)
class IntakeRecord:
    """One accepted complaint as intake stores it."""

    event: ComplaintNormalized
    contact: Contact
    original: dict[str, Any]
    fingerprint: str

    @property
    def key(self) -> str | None:
        """ "channel:external_id", unique among stored complaints (None without an external id)."""
        return intake_key(self.event.data.channel.value, self.event.data.external_id)


def intake_key(channel: str, external_id: str | None) -> str | None:
    """The (channel, external id) as one key: a message taken in once, whatever its day."""
    return f"{channel}:{external_id}" if external_id else None


@dataclass(frozen=True)
class RequestClaim:
    """The first request an `Idempotency-Key` was used for: its body's digest, its answer."""

    digest: str
    complaint_id: str


@dataclass(frozen=True)
class PriorText:
    """An earlier complaint of the same complainant, for near-duplicate detection."""

    complaint_id: str
    complainant_key: str
    fingerprint: str
    received_at: datetime


class ComplaintStore(Protocol):
    """Intake's collections: complaints (masked), contacts and raw payloads (personal data)."""

    async def ensure_indexes(self) -> None:
        """Create the indexes the queries below rely on (idempotent)."""

    async def first_complaints(self, keys: Sequence[str]) -> dict[str, str]:
        """The stored complaint id of each "channel:external_id" taken in before (one read);
        keys never seen are absent. `save` keeps each key on one complaint only."""

    async def claim_request(self, key: str, digest: str, complaint_id: str) -> RequestClaim:
        """What an HTTP `Idempotency-Key` ("channel:key") was first taken with: this request's
        body digest and complaint id if the key is new (claimed now), else the first ones."""

    async def save(self, records: Sequence[IntakeRecord]) -> Stored[ComplaintNormalized]:
        """Insert records not stored yet; the events to publish, one per complaint id.

        An existing complaint id is left as it was, and its *stored* event is returned in place
        of the record's (a redelivery republishes the first decision, with its id). A record
        whose (channel, external id) a complaint of another id holds — a replay stored
        meanwhile by another replica — is not stored: that complaint's event comes back.
        """

    async def stored(self, complaint_ids: Sequence[str]) -> list[ComplaintNormalized]:
        """The stored events of these complaints (those that are stored), in that order."""

    async def prune_raw_payloads(self, *, before: datetime, limit: int) -> int:
        """Delete up to `limit` raw channel payloads received before `before`; how many."""

    async def recent_by_complainant(
        self, keys: Sequence[str], *, since: datetime
    ) -> list[PriorText]:
        """Earlier complaints of these complainants received at or after `since`."""
