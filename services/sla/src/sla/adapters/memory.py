"""In-memory SLA stores for handler and scheduler tests; same contract as the Mongo ones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from contracts import ClockName, SlaChanged
from servicekit.outbox import MemoryOutbox
from sla.ports import StoredDeadline


@dataclass
class _Slot:
    deadline: StoredDeadline
    status: str = "pending"
    owner: str | None = None
    lease_until: datetime | None = None
    announced: bool = True


class InMemoryDeadlineStore:
    """Deadlines in a dict with the same lease semantics as the Mongo store."""

    def __init__(self) -> None:
        self.slots: dict[str, _Slot] = {}

    async def ensure_indexes(self) -> None:
        """Nothing to index in memory."""

    async def add(self, deadlines: Sequence[StoredDeadline]) -> None:
        """Insert-if-absent by deadline id."""
        for d in deadlines:
            if d.deadline_id not in self.slots:
                self.slots[d.deadline_id] = _Slot(d, "pending" if d.next_threshold() else "done")

    def _fire_at(self, slot: _Slot) -> datetime | None:
        if slot.status == "firing":
            return slot.lease_until
        nxt = slot.deadline.next_threshold()
        return nxt.at if slot.status == "pending" and nxt else None

    async def next_due_at(self) -> datetime | None:
        """Earliest time any deadline needs attention."""
        times = [t for s in self.slots.values() if (t := self._fire_at(s)) is not None]
        return min(times, default=None)

    async def claim_due(
        self, *, now: datetime, owner: str, lease_until: datetime, limit: int
    ) -> list[StoredDeadline]:
        """Take due deadlines (or expired leases)."""
        due = sorted(
            (s for s in self.slots.values() if (t := self._fire_at(s)) is not None and t <= now),
            key=lambda s: self._fire_at(s) or now,
        )[:limit]
        for slot in due:
            slot.status, slot.owner, slot.lease_until = "firing", owner, lease_until
        return [s.deadline for s in due]

    async def fired(self, deadline: StoredDeadline, *, percent: int, owner: str) -> None:
        """Record the threshold and release the lease if we still hold it."""
        slot = self.slots[deadline.deadline_id]
        if slot.owner != owner or slot.status != "firing":
            return
        slot.deadline = replace(slot.deadline, fired=(*slot.deadline.fired, percent))
        slot.status = "pending" if slot.deadline.next_threshold() else "done"
        slot.owner = slot.lease_until = None

    async def stop_clock(
        self, complaint_id: str, clock: ClockName, *, status: str
    ) -> list[StoredDeadline]:
        """Stop the open deadlines of one clock; also return stops not yet announced."""
        stopped = []
        for slot in self.slots.values():
            d = slot.deadline
            if d.complaint_id != complaint_id or d.clock != clock:
                continue
            if slot.status in {"pending", "firing"}:
                slot.status, slot.announced = status, False
            if slot.status == status and not slot.announced:
                stopped.append(d)
        return stopped

    async def announced(self, deadline_ids: Sequence[str]) -> None:
        """Flag the stops as published."""
        for deadline_id in deadline_ids:
            self.slots[deadline_id].announced = True


class InMemoryCaseStore:
    """Case states and clocks-set events in dicts."""

    def __init__(self) -> None:
        self.states: dict[str, str] = {}
        self.outbox: MemoryOutbox[SlaChanged] = MemoryOutbox()

    async def save_started(self, events: Sequence[tuple[str, str, SlaChanged | None]]) -> None:
        """Record state and event unless already recorded."""
        for complaint_id, state, event in events:
            self.states.setdefault(complaint_id, state)
            if event is not None:
                self.outbox.put(complaint_id, event)

    async def unpublished(self, complaint_ids: Sequence[str]) -> list[SlaChanged]:
        """Kept events not yet marked published."""
        return await self.outbox.pending(complaint_ids)

    async def mark_published(self, complaint_ids: Sequence[str]) -> None:
        """Flag the events as published."""
        await self.outbox.mark_published(complaint_ids)
