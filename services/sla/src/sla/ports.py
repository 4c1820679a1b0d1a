"""What the SLA use-cases need from the outside world."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from contracts import (
    Audience,
    CaseState,
    Channel,
    ClockName,
    DeliveryStatus,
    Event,
    FlagName,
    Severity,
    SlaChanged,
    Verdict,
)
from sla.domain import Case


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
    unit: str = "h"
    repeat: bool = False
    round: int = 0  # restarts of the clock (reopening, another resolution): part of the id
    # The plan before a running pause (due, thresholds); the pause shifts from it, the resume too.
    pause_base: tuple[datetime, tuple[Threshold, ...]] | None = None

    def next_threshold(self) -> Threshold | None:
        """The earliest threshold not fired yet."""
        pending = [t for t in self.thresholds if t.percent not in self.fired]
        return min(pending, key=lambda t: t.at) if pending else None

    @property
    def breached(self) -> bool:
        """Whether the due time was announced as breached."""
        return 100 in self.fired


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

    async def stop_clocks(
        self,
        complaint_id: str,
        clocks: Collection[ClockName | None],
        *,
        status: str,
        at: datetime,
    ) -> list[StoredDeadline]:
        """Stop a complaint's open deadlines of `clocks` (met / cancelled; None: upgrades) at `at`,
        reading the complaint's deadlines once however many clocks an action stops.

        Returns those stopped now and those stopped earlier whose stop was never announced.
        """

    async def announced(self, deadline_ids: Sequence[str]) -> None:
        """Remember that these stops were published."""

    async def open_for(self, complaint_id: str) -> list[StoredDeadline]:
        """A complaint's deadlines that are still running (pending or being fired)."""

    async def census(self) -> list[tuple[str, str, str, str, int]]:
        """Deadline counts by (clock, severity, status, outcome); outcome is on_time / late /
        overdue (running past its due) / "" (running in time, or stopped without a goal)."""

    async def replan(self, deadlines: Sequence[StoredDeadline], *, action_id: str) -> None:
        """Store new due / threshold times (pause, resume, extension) of running deadlines.

        Applied at most once per `action_id`, so a redelivered action never shifts twice.
        """


@dataclass(frozen=True)
class CaseFacts:
    """What the SLA service keeps from the classification: enough to (re)start any clock."""

    complaint_id: str
    received_at: datetime
    channel: Channel
    flags: tuple[FlagName, ...]
    severity_at_receipt: Severity | None
    referral_due_at: datetime | None = None
    complainant_key: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class CaseRecord:
    """A stored case: facts, the state machine's view, and the version for compare-and-set."""

    facts: CaseFacts
    case: Case
    version: int
    assignee: str | None = None  # from the latest `assigned` action
    department: str | None = None
    # Staff actions the lifecycle consumer refused: action id → (reason, detail).
    refusals: Mapping[str, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class CaseChange:
    """What one accepted action writes besides the new case: dates, a pause window, events."""

    events: tuple[Event, ...] = ()
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    pause: tuple[datetime, datetime] | None = None  # credited window (paused at, credited until)
    review_reason: str | None = None
    assignment: tuple[str | None, str | None] | None = None  # (assignee, department) if assigned


@dataclass(frozen=True)
class ReceiptSummary:
    """What became of one notification about a case (no recipient, no text)."""

    notification_id: str
    complaint_id: str
    audience: Audience
    channel: str
    template: str
    status: DeliveryStatus
    at: datetime


@dataclass(frozen=True)
class CaseFilter:
    """Which cases a list asks for; None matches anything."""

    state: CaseState | None = None
    severity: Severity | None = None
    category: str | None = None
    channel: Channel | None = None
    assignee: str | None = None


@dataclass(frozen=True)
class CaseSummary:
    """One row of a case list: facts and where the case stands, without its history."""

    facts: CaseFacts
    state: CaseState
    severity: Severity
    assignee: str | None = None
    department: str | None = None


class CaseStore(Protocol):
    """`cases`: one document per complaint: facts, lifecycle state, history, outboxes."""

    async def save_started(
        self, entries: Sequence[tuple[CaseFacts, CaseState, SlaChanged | None]]
    ) -> None:
        """Record each case (state, facts, clocks-set event) unless already recorded."""

    async def unpublished(self, complaint_ids: Sequence[str]) -> list[SlaChanged]:
        """Clocks-set events not yet confirmed on Kafka."""

    async def mark_published(self, complaint_ids: Sequence[str]) -> None:
        """Remember that these events reached Kafka."""

    async def prefetch(self, complaint_ids: Sequence[str]) -> None:
        """Read these cases in one go for the next `load` of each (a batch's first reads)."""

    async def load(self, complaint_id: str) -> CaseRecord | None:
        """The stored case, or None if the SLA service never saw it classified."""

    async def commit(self, record: CaseRecord, case: Case, change: CaseChange) -> bool:
        """Store `case` and `change` if the stored version is still `record.version`."""

    async def pending_events(self, complaint_ids: Sequence[str]) -> list[Event]:
        """Events of accepted actions not yet confirmed on Kafka, oldest first."""

    async def events_published(self, events: Sequence[Event]) -> None:
        """Remember that these events reached Kafka."""

    async def record_refusal(
        self, complaint_id: str, action_id: str, *, reason: str, detail: str
    ) -> None:
        """Remember why a staff action was refused, so the client polling it can be told."""

    async def raise_severity(self, complaint_id: str, severity: Severity) -> None:
        """A time-based upgrade: the case is handled at `severity` from now on."""

    async def record_verdict(
        self, complainant_key: str, *, complaint_id: str, at: datetime, verdict: Verdict
    ) -> list[tuple[datetime, Verdict]]:
        """Add a closure verdict to the complainant's record; return the whole record."""

    async def record_receipts(self, receipts: Sequence[ReceiptSummary]) -> None:
        """Keep each receipt under its case; the latest one per notification id wins."""

    async def receipts(self, complaint_id: str) -> list[ReceiptSummary]:
        """The receipts kept for a case, oldest first."""

    async def ensure_indexes(self) -> None:
        """Create the indexes the list filters use (idempotent)."""

    async def search(self, query: CaseFilter) -> list[CaseSummary]:
        """Cases matching `query`, oldest receipt first."""

    async def search_page(
        self,
        query: CaseFilter,
        *,
        skip: int,
        limit: int | None,
        ids: Sequence[str] | None = None,
    ) -> tuple[list[CaseSummary], int]:
        """A page of `search` (only the cases in `ids`, if given), and the number matching."""


@dataclass(frozen=True)
class ClockRecord:
    """A deadline as the case queries show it: running, met or cancelled, and when it stopped."""

    deadline: StoredDeadline
    status: str  # pending / firing (running), met, cancelled, done (a fired upgrade)
    stopped_at: datetime | None = None

    @property
    def running(self) -> bool:
        """Whether the clock has not reached its goal (nor been cancelled) yet."""
        return self.status in {"pending", "firing"}


class ClockReader(Protocol):
    """Read-only view of `deadlines` for the case queries (the scheduler never uses it)."""

    async def clocks_of(self, complaint_id: str) -> list[ClockRecord]:
        """Every deadline of one complaint, whatever its status."""

    async def running_due_by(self, at: datetime) -> list[StoredDeadline]:
        """Running clock deadlines (not upgrades) due at or before `at`, across all cases."""

    async def running_of(self, complaint_ids: Sequence[str]) -> list[StoredDeadline]:
        """Running clock deadlines (not upgrades) of these complaints."""
