"""What the SLA use-cases need from the outside world."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from contracts import Audience, ClockName, SlaChanged


@dataclass(frozen=True)
class Threshold:
    """One point at which a deadline fires: 50 / 80 % warning, 100 % breach, 150 % escalation."""

    percent: int
    at: datetime
    audiences: tuple[Audience, ...] = ()


@dataclass(frozen=True)
class StoredDeadline:
    """A clock's deadline as the scheduler keeps it."""

    deadline_id: str
    complaint_id: str
    clock: ClockName | None  # None for a time-based severity upgrade
    occurrence: int
    severity: str
    started_at: datetime
    due_at: datetime
    thresholds: tuple[Threshold, ...]
    policy_version: str
    calendar_version: str
    upgrade_to: str | None = None
    fired: tuple[int, ...] = field(default=())

    def next_threshold(self) -> Threshold | None:
        """The earliest threshold not fired yet."""
        pending = [t for t in self.thresholds if t.percent not in self.fired]
        return min(pending, key=lambda t: t.at) if pending else None


class DeadlineStore(Protocol):
    """The `deadlines` collection and the lease protocol the scheduler relies on."""

    async def ensure_indexes(self) -> None:
        """Index (status, next_fire_at) so due deadlines are found fast among millions."""

    async def add(self, deadlines: Sequence[StoredDeadline]) -> None:
        """Insert deadlines not stored yet (idempotent on deadline id)."""

    async def next_due_at(self) -> datetime | None:
        """When the earliest pending deadline fires next."""

    async def claim_due(
        self, *, now: datetime, owner: str, lease_until: datetime, limit: int
    ) -> list[StoredDeadline]:
        """Atomically take up to `limit` due deadlines (or ones whose lease expired)."""

    async def fired(self, deadline: StoredDeadline, *, percent: int, owner: str) -> None:
        """Record a fired threshold and release the lease (done when none is left)."""

    async def stop_clock(
        self, complaint_id: str, clock: ClockName, *, status: str
    ) -> list[StoredDeadline]:
        """Stop a complaint's open deadlines of `clock` (met / cancelled).

        Returns those stopped now and those stopped earlier whose stop was never announced.
        """

    async def announced(self, deadline_ids: Sequence[str]) -> None:
        """Remember that these stops were published."""


class CaseStore(Protocol):
    """Case state and the SLA stage's outbox on the complaint document."""

    async def save_started(self, events: Sequence[tuple[str, str, SlaChanged | None]]) -> None:
        """Record (complaint id, state, clocks-set event) unless already recorded."""

    async def unpublished(self, complaint_ids: Sequence[str]) -> list[SlaChanged]:
        """Clocks-set events not yet confirmed on Kafka."""

    async def mark_published(self, complaint_ids: Sequence[str]) -> None:
        """Remember that these events reached Kafka."""
