"""What the classifier use-case needs from the outside world."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from classifier.domain import (
    IncidentKey,
    IncidentRow,
    IncidentSighting,
    IncidentState,
    PriorComplaint,
    Standing,
)
from classifier.domain.path_tally import TallyRow
from classifier.domain.regrade import Correction
from contracts import ComplaintClassified, IncidentRecord
from servicekit.outbox import Stored


class ClassificationStore(Protocol):
    """Decisions on the `complaints` documents, and the history they are made against."""

    async def ensure_indexes(self) -> None:
        """Create the indexes the history queries rely on (idempotent)."""

    async def by_complainants(
        self, keys: Sequence[str], *, since: datetime
    ) -> list[PriorComplaint]:
        """Classified complaints of these complainants received since `since`."""

    async def by_issues(
        self, issues: Sequence[tuple[str, str]], *, since: datetime
    ) -> list[PriorComplaint]:
        """Classified complaints of these (top-level category, area) pairs since `since`.

        Hot issues and mass incidents only ever compare complaints of one category *and* one
        area, so this is all the category history a batch needs, and it stays small enough to
        read whole (no server- or client-side limit that could cut a burst short).
        """

    async def by_categories(
        self, categories: Sequence[str], *, since: datetime
    ) -> list[PriorComplaint]:
        """Classified complaints of these whole category paths since `since`, in any area.

        Wide-area incidents (an outage, a rating error) only look back the mass-incident window,
        so this stays small enough to read whole.
        """

    async def path_tally(self, categories: Sequence[str], minutes: Sequence[int]) -> list[TallyRow]:
        """Stored decisions of these whole category paths received in these epoch minutes,
        counted per (path, minute, tier): never fewer than `by_categories` would return (more
        is allowed — a redelivery or a correction may count one twice), so a path whose counts
        stay below the mass-incident thresholds need not be read (ADR 0033)."""

    async def save(
        self, events: Sequence[tuple[ComplaintClassified, str | None]]
    ) -> Stored[ComplaintClassified]:
        """Store each decision (with its area) unless the complaint already has one; the
        decisions to publish: the stored one wherever there was one (a redelivery)."""

    async def record_incident(self, sighting: IncidentSighting) -> str:
        """Merge a burst into the open incident of its category and area (or open one); its id.

        An incident is open for a sighting when their time spans overlap: the incident was last
        seen at or after the sighting's window start, and first seen no later than its end. A
        closed incident takes no members and keeps its id: a burst after it opens a new
        incident under a fresh key (`domain.incident.place`). Recording the same sighting again
        changes nothing (idempotent on redelivery).
        """

    async def closed_incidents(self, incident_ids: Sequence[str]) -> set[str]:
        """Those of `incident_ids` that operations closed or merged (they take no members)."""

    async def published_without_incident(self, complaint_ids: Sequence[str]) -> list[str]:
        """Those of `complaint_ids` whose stored decision carries no incident id, in that order.

        They were decided (and published) before their burst reached the incident threshold.
        Stored decisions never change, so the answer is the same on every redelivery.
        """

    async def link_incident(self, incident_id: str, complaint_ids: Sequence[str]) -> None:
        """Mark the decision documents of `complaint_ids` as the incident's (idempotent)."""

    async def open_incidents(
        self, categories: Sequence[str], *, since: datetime
    ) -> list[tuple[IncidentKey, datetime]]:
        """Incidents that may concern complaints of these category paths (place-bound ones by
        their top category), last seen since `since`: each one's opening key and last sighting."""

    async def incident_states(self, incident_ids: Sequence[str]) -> list[IncidentState]:
        """The incidents with their members (channel, tier, receipt time) and what was told."""

    async def mark_announced(self, told: IncidentRecord) -> None:
        """Remember that downstream was told of `told.added_ids` by the event of its sequence."""


class CorrectionStore(Protocol):
    """Staff corrections (`regraded` actions) and the stored decisions they change."""

    async def apply(self, corrections: Sequence[Correction]) -> list[str]:
        """Record each correction once (by action id) and set it on its stored decision.

        The latest correction of a complaint (by `occurred_at`) is the decision that stands,
        whatever order they arrive in. Returns the complaint ids that have no stored decision
        (nothing is recorded for them).
        """

    async def corrections(self) -> list[Correction]:
        """Every recorded correction, oldest first (for `export-corrections`)."""


class IncidentLedger(Protocol):
    """Operations' side of the `incidents` collection: list, close, merge, take members out."""

    async def incidents(self, *, open_only: bool | None = None) -> list[IncidentRow]:
        """Every incident (or only open / only closed ones), latest first."""

    async def close(
        self,
        incident_id: str,
        *,
        sequence: int,
        standing: Standing,
    ) -> None:
        """Mark the incident closed (or merged) by the change of `sequence`; it takes no
        more members. Once: closing a closed incident changes nothing."""

    async def take_out(
        self, incident_id: str, complaint_ids: Sequence[str], *, sequence: int
    ) -> None:
        """Remove members for good (a later sighting never brings them back)."""

    async def take_in(
        self, incident_id: str, complaint_ids: Sequence[str], *, sequence: int
    ) -> None:
        """Add members (a merge), remembered as announced: they were told before."""
