"""In-memory intake store for handler tests; honours the same contract as the Mongo one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from contracts import ComplaintNormalized
from intake.ports import IntakeRecord, PriorText, RequestClaim
from servicekit.outbox import MemoryDecisions, Stored


class InMemoryComplaintStore:
    """Dicts standing in for the `complaints` and `contacts` collections."""

    def __init__(self) -> None:
        self.records: dict[str, IntakeRecord] = {}
        self.decisions: MemoryDecisions[ComplaintNormalized] = MemoryDecisions()
        self.external_ids: dict[str, str] = {}
        self.requests: dict[str, RequestClaim] = {}
        self.raw: dict[str, dict[str, Any]] = {}
        """Complaint id → the channel's payload, until pruned (`raw_payloads`)."""

    async def ensure_indexes(self) -> None:
        """Nothing to index in memory."""

    async def first_complaints(self, keys: Sequence[str]) -> dict[str, str]:
        """The stored complaint id per channel + external id."""
        return {key: self.external_ids[key] for key in keys if key in self.external_ids}

    async def claim_request(self, key: str, digest: str, complaint_id: str) -> RequestClaim:
        """The first body digest and complaint id taken under this Idempotency-Key."""
        return self.requests.setdefault(key, RequestClaim(digest, complaint_id))

    async def save(self, records: Sequence[IntakeRecord]) -> Stored[ComplaintNormalized]:
        """Insert records whose complaint id is new; the kept event of each."""
        events, new = [], set()
        for record in records:
            cid = record.event.data.complaint_id
            first = self.external_ids.get(record.key or "", cid)
            if first != cid:  # the key is another complaint's: a replay stored meanwhile
                events.append(self.decisions.events[first])
                continue
            if self.decisions.put(cid, record.event):
                new.add(cid)
                self.records[cid] = record
                self.raw[cid] = record.original
                if record.key:
                    self.external_ids[record.key] = cid
            events.append(self.decisions.events[cid])
        return Stored(list({e.data.complaint_id: e for e in events}.values()), frozenset(new))

    async def stored(self, complaint_ids: Sequence[str]) -> list[ComplaintNormalized]:
        """Kept events of these complaints."""
        events = self.decisions.events
        return [events[c] for c in complaint_ids if c in events]

    async def prune_raw_payloads(self, *, before: datetime, limit: int) -> int:
        """Forget the raw payloads of up to `limit` complaints received before `before`."""
        expired = [
            cid
            for cid, r in self.records.items()
            if cid in self.raw and r.event.data.received_at < before
        ][:limit]
        for cid in expired:
            del self.raw[cid]
        return len(expired)

    async def recent_by_complainant(
        self, keys: Sequence[str], *, since: datetime
    ) -> list[PriorText]:
        """Earlier complaints of these complainants since `since`."""
        wanted = set(keys)
        return [
            PriorText(cid, key, r.fingerprint, r.event.data.received_at)
            for cid, r in self.records.items()
            if (key := r.event.data.complainant_key) in wanted
            and key is not None
            and r.event.data.received_at >= since
        ]
