"""In-memory classification store for handler tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from contracts import ComplaintClassified, Kind
from servicekit.outbox import MemoryOutbox

from classifier.domain import PriorComplaint


class InMemoryClassificationStore:
    """Decisions in a dict, with the same history queries as the Mongo store."""

    def __init__(self) -> None:
        self.outbox: MemoryOutbox[ComplaintClassified] = MemoryOutbox()
        self.areas: dict[str, str | None] = {}

    async def ensure_indexes(self) -> None:
        """Nothing to index in memory."""

    def _priors(self) -> list[PriorComplaint]:
        return [
            PriorComplaint(
                complaint_id=e.data.complaint_id,
                complainant_key=e.data.complainant_key,
                category=e.data.category,
                received_at=e.data.received_at,
                area=self.areas.get(cid),
            )
            for cid, e in self.outbox.events.items()
            if e.data.kind is Kind.COMPLAINT
        ]

    async def by_complainants(
        self, keys: Sequence[str], *, since: datetime
    ) -> list[PriorComplaint]:
        """Classified complaints of these complainants since `since`."""
        return [p for p in self._priors() if p.complainant_key in keys and p.received_at >= since]

    async def by_categories(
        self, categories: Sequence[str], *, since: datetime
    ) -> list[PriorComplaint]:
        """Classified complaints in these categories since `since`."""
        return [
            p
            for p in self._priors()
            if (p.category or "").split("/")[0] in categories and p.received_at >= since
        ]

    async def save(self, events: Sequence[tuple[ComplaintClassified, str | None]]) -> None:
        """Keep decisions for complaints that have none yet."""
        for event, area in events:
            if self.outbox.put(event.data.complaint_id, event):
                self.areas[event.data.complaint_id] = area

    async def unpublished(self, complaint_ids: Sequence[str]) -> list[ComplaintClassified]:
        """Kept decisions not yet marked published."""
        return await self.outbox.pending(complaint_ids)

    async def mark_published(self, complaint_ids: Sequence[str]) -> None:
        """Flag the decisions as published."""
        await self.outbox.mark_published(complaint_ids)
