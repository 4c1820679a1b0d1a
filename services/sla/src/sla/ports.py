"""What the SLA use-cases need from the outside world: the case store and the due index."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from contracts import (
    Audience,
    CaseState,
    Channel,
    DeliveryStatus,
    Event,
    FlagName,
    Severity,
    Verdict,
)
from sla.clocks.codec import ms
from sla.clocks.sheet import ClockEntry
from sla.domain import Case
from sla.held import HeldReceipts

Publish = Callable[[Sequence[Event]], Awaitable[None]]
"""Publishes events keyed by complaint id, returning once the broker has them."""


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
class LogEntry:
    """One stored change of a case and the events it must publish (republished on redelivery)."""

    id: str  # the staff action id, `receipt:<notification>`, `clocks-started`, or a firing's
    at: datetime
    events: tuple[Event, ...] = ()


@dataclass(frozen=True)
class Submission:
    """A staff action the case API published: its request's digest and when it was taken."""

    digest: str
    occurred_at: datetime


@dataclass(frozen=True)
class CaseRecord:
    """A stored case: facts, lifecycle, clock sheet, change log, and the compare-and-set version."""

    facts: CaseFacts
    case: Case
    version: int
    clocks: tuple[ClockEntry, ...] = ()
    log: tuple[LogEntry, ...] = ()
    unpublished: tuple[str, ...] = ()  # log entries of firings whose publish is not confirmed
    assignee: str | None = None  # from the latest `assigned` action
    department: str | None = None
    # Staff actions the lifecycle consumer refused: action id → (reason, detail).
    refusals: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    # Staff actions the case API published: action id → its submission.
    submissions: Mapping[str, Submission] = field(default_factory=dict)
    review_reason: str | None = None  # the complainant was flagged for human review (003)

    @property
    def complaint_id(self) -> str:
        """The case's id."""
        return self.facts.complaint_id

    def entry(self, entry_id: str) -> LogEntry | None:
        """The log entry of one change."""
        return next((e for e in self.log if e.id == entry_id), None)


@dataclass(frozen=True)
class CaseChange:
    """One compare-and-set: the new case and sheet, the log entry, and the dated facts."""

    case: Case
    clocks: tuple[ClockEntry, ...]
    entry: LogEntry
    unpublished: bool = False  # a firing: swept and republished until marked published
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    pause: tuple[datetime, datetime] | None = None  # credited window (paused at, credited until)
    review_reason: str | None = None
    assignment: tuple[str | None, str | None] | None = None  # (assignee, department) if assigned
    category: str | None = None  # a regrade's new category (its clocks re-planned on it)
    flags: tuple[FlagName, ...] | None = None  # a regrade's new flags (audiences, overlays)


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
    review: bool | None = None  # True: only cases whose complainant awaits a human review


MAX_PAGE = 200
"""The most cases one list read returns (the API's largest `page_size`)."""


@dataclass(frozen=True)
class CasePaging:
    """Which slice of a case list to read: bounds on the next due time, keyset, size.

    The next due time is the earliest due of the case's running clocks. Rows come oldest receipt
    first, ties by complaint id — or, with a due bound, soonest next due first; `after` is that
    order's key of the last row already seen (at millisecond precision, as BSON keeps it).
    """

    due_by: datetime | None = None  # the next due time is at or before this
    due_between: tuple[datetime, datetime] | None = None  # the next due time is in (start, end]
    after: tuple[datetime, str] | None = None
    limit: int = MAX_PAGE

    @property
    def by_due(self) -> bool:
        """Whether the rows come soonest next due first (a due bound is given)."""
        return self.due_by is not None or self.due_between is not None


@dataclass(frozen=True)
class CaseSummary:
    """One row of a case list: facts, where the case stands, and its running clocks."""

    facts: CaseFacts
    state: CaseState
    severity: Severity
    assignee: str | None = None
    department: str | None = None
    running: tuple[ClockEntry, ...] = ()
    review: bool = False  # the complainant awaits a human review

    @property
    def next_due(self) -> datetime | None:
        """The earliest due of the running clocks, at millisecond precision (as BSON keeps it)."""
        return min((ms(d.due_at) for d in self.running), default=None)

    def list_key(self, paging: CasePaging) -> tuple[datetime, str]:
        """Where the row stands in the list `paging` reads: (received_at or next due, id)."""
        at = self.next_due if paging.by_due else ms(self.facts.received_at)
        assert at is not None  # noqa: S101 - a due list keeps only rows with a next due time
        return at, self.facts.complaint_id


class CaseStore(HeldReceipts, Protocol):
    """`cases`: one document per complaint, changed only by compare-and-set on its version."""

    async def ensure_indexes(self) -> None:
        """Indexes MongoDB's planner may use (FerretDB finds cases by `_id`)."""

    async def insert_new(self, records: Sequence[CaseRecord]) -> list[str]:
        """Insert each case unless stored; return the ids that were stored already."""

    async def load_many(
        self, complaint_ids: Sequence[str], *, log: bool = True
    ) -> dict[str, CaseRecord]:
        """The stored cases among these ids, in one read; without their change log (`log` False,
        left empty) when the caller needs no stored events — reading them costs CPU."""

    async def load(self, complaint_id: str, *, log: bool = True) -> CaseRecord | None:
        """The stored case, or None if never classified here (`log` as in `load_many`)."""

    async def load_started(self, complaint_ids: Sequence[str]) -> dict[str, CaseRecord]:
        """`load_many(…, log=False)` for a compare-and-set: a case this store inserted lately
        comes as inserted, without a read (once; it may be stale: the write then loses and the
        writer reads again), the others from one read (ADR 0042)."""

    async def commit(self, record: CaseRecord, change: CaseChange) -> bool:
        """Store `change` if the stored version is still `record.version`."""

    async def commit_many(self, changes: Sequence[tuple[CaseRecord, CaseChange]]) -> set[str]:
        """`commit` for several cases at once (batched writes, one change per case, each log
        entry id new to its case); the ids of the cases whose change was stored."""

    async def mark_published(self, entries: Sequence[tuple[str, str]]) -> None:
        """(complaint id, log entry id): these firings' events reached Kafka."""

    async def record_refusal(
        self, complaint_id: str, action_id: str, *, reason: str, detail: str
    ) -> None:
        """Remember why a staff action was refused, so the client polling it can be told."""

    async def record_submission(
        self, complaint_id: str, action_id: str, submission: Submission
    ) -> Submission | None:
        """Keep the submission unless one is kept for this action id already: None if kept now,
        else the one kept before (two API replicas taking one id: the first wins)."""

    async def record_verdict(
        self, complainant_key: str, *, complaint_id: str, at: datetime, verdict: Verdict
    ) -> list[tuple[datetime, Verdict]]:
        """Add a closure verdict to the complainant's record; return the whole record."""

    async def search(
        self, query: CaseFilter, paging: CasePaging | None = None
    ) -> list[CaseSummary]:
        """At most `paging.limit` cases matching `query` and `paging` (with their running
        clocks), oldest receipt first: the filter, order and limit go to the database."""

    async def census(self) -> list[tuple[str, str, str, str, int]]:
        """Clock counts by (clock, severity, status, outcome); outcome is on_time / late /
        overdue (running past its breach) / "" (running in time, or stopped without a goal).
        Read from the tally the case writes keep, not from the cases (ADR 0024)."""

    async def heal_tally(self, older_than: float) -> int:
        """Add to the tally what writers that died between a case write and its tally update
        left announced, once; announcements younger than `older_than` s are live writes' (ADR
        0029). Returns how many were settled."""

    async def recount(self) -> list[tuple[str, str, str, str, int]]:
        """The same counts from every stored clock sheet (reads every case: a check)."""


class CaseDeliveries(Protocol):
    """What became of a case's notifications: the notifier's own rows (ADR 0006 addendum)."""

    async def of_case(self, complaint_id: str) -> list[ReceiptSummary]:
        """The case's settled or waiting deliveries, oldest first (none being sent)."""


DueEntry = tuple[str, datetime, int]
"""(`<complaint>:<clock key>`, fire time, threshold percent): where the scheduler must look."""


class DueIndex(Protocol):
    """The scheduler's due index: small entries with a fire time, read in time order."""

    async def add(self, entries: Sequence[DueEntry], *, now: datetime) -> None:
        """Index fire times (an entry already due is read at once)."""

    async def due(self, *, now: datetime, limit: int) -> list[tuple[int, DueEntry]]:
        """Up to `limit` entries due by `now` not settled by this replica, with their slot."""

    def settle(self, slot: int, entry: DueEntry) -> None:
        """This replica has dealt with the entry: its case needs nothing more for it."""

    async def advance(self, *, now: datetime) -> None:
        """Forget settled entries (the shared watermark moves past settled slots)."""

    def upcoming(self) -> datetime | None:
        """The earliest fire time seen ahead of now in the last read (no I/O)."""


def after(record: CaseRecord, change: CaseChange) -> CaseRecord:
    """The record as it reads once `change` is stored (what a fresh load would return)."""
    assignee, department = change.assignment or (record.assignee, record.department)
    unpublished = record.unpublished
    if change.unpublished and change.entry.id not in unpublished:
        unpublished = (*unpublished, change.entry.id)
    facts = record.facts
    if change.category is not None:
        facts = replace(facts, category=change.category)
    if change.flags is not None:
        facts = replace(facts, flags=change.flags)
    return CaseRecord(
        facts=facts,
        case=change.case,
        version=record.version + 1,
        clocks=change.clocks,
        log=(*record.log, change.entry),
        unpublished=unpublished,
        assignee=assignee,
        department=department,
        refusals=record.refusals,
        submissions=record.submissions,
        review_reason=change.review_reason or record.review_reason,
    )
