"""In-memory notifier state for handler tests (and for several notifiers sharing one log)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime

from contracts import DeliveryStatus
from notifier.domain import Assignment, CustomerContact, Delivery, IncidentMember, StaffEntry
from notifier.ports import Claims, Due, DueRound, Outcome

SENDING = "sending"
WAITING = {SENDING, DeliveryStatus.DEFERRED.value}


@dataclass
class _Record:
    delivery: Delivery
    status: str
    lease_until: datetime
    outcome: Outcome | None = None
    completed_at: datetime | None = None


class InMemoryNotificationLog:
    """Claims in a dict keyed like the Mongo `_id`; no await between check and set."""

    def __init__(self) -> None:
        self.records: dict[str, _Record] = {}

    async def ensure_indexes(self) -> None:
        """Nothing to index in memory."""

    async def claim(
        self,
        deliveries: Sequence[Delivery],
        *,
        now: datetime,
        lease_until: datetime,
        decided: Mapping[str, Outcome] | None = None,
        send_first: AbstractSet[str] = frozenset(),
    ) -> Claims:
        """Claim unseen keys (with their outcome if decided; unseen `send_first` ones are only
        fresh) and 'sending' ones whose lease ran out; stored outcomes of others."""
        claimed, settled, held, stored, fresh = [], [], 0, [], []
        known = decided or {}
        for delivery in {d.key: d for d in deliveries}.values():
            record = self.records.get(delivery.key)
            if record is None and delivery.key in send_first and delivery.key not in known:
                fresh.append(delivery)
                continue
            if record is None and delivery.key in known:
                outcome = known[delivery.key].stored_at(now)
                wait = outcome.deliver_after or lease_until
                self.records[delivery.key] = _Record(
                    delivery, outcome.status.value, wait, outcome, now
                )
                stored.append(outcome)
                continue
            if record is None:
                self.records[delivery.key] = _Record(delivery, SENDING, lease_until)
            elif record.status == SENDING and record.lease_until <= now:
                record.lease_until = lease_until
            elif record.outcome is not None and record.status != SENDING:
                settled.append(record.outcome)
                continue
            else:
                held += 1
                continue
            claimed.append(delivery)
        return Claims(claimed, settled, held, stored, fresh)

    async def complete(
        self, outcomes: Sequence[Outcome], *, now: datetime
    ) -> dict[str, Outcome | None]:
        """Record outcomes (a fresh one inserts its record, unless one is there: returned);
        a deferred one waits until its `deliver_after`."""
        before: dict[str, Outcome | None] = {}
        for outcome in outcomes:
            record = self.records.get(outcome.key)
            if outcome.fresh and record is not None:
                before[outcome.key] = record.outcome if record.status != SENDING else None
                continue
            if record is None:
                if not outcome.fresh:
                    raise KeyError(outcome.key)
                record = _Record(outcome.delivery, SENDING, now)
                self.records[outcome.key] = record
            record.status = outcome.status.value
            record.outcome = outcome.stored_at(now)
            record.completed_at = now
            if outcome.deliver_after is not None:
                record.lease_until = outcome.deliver_after
        return before

    async def extend(self, keys: Sequence[str], *, lease_until: datetime) -> None:
        """Move the lease of those still waiting or being sent."""
        for key in keys:
            record = self.records.get(key)
            if record is not None and record.status in WAITING:
                record.lease_until = lease_until

    async def templates(self, keys: Sequence[str]) -> dict[str, str]:
        """The template each claimed key was claimed with."""
        return {k: self.records[k].delivery.intent.template for k in keys if k in self.records}

    async def claim_due(self, *, now: datetime, lease_until: datetime, limit: int) -> DueRound:
        """Lease what is due, earliest first."""
        due = sorted(
            (r for r in self.records.values() if r.status in WAITING and r.lease_until <= now),
            key=lambda r: r.lease_until,
        )[:limit]
        for record in due:
            record.lease_until = lease_until
        return DueRound([Due(r.delivery, _held_for(r)) for r in due], self._earliest())

    async def next_due_at(self) -> datetime | None:
        """Earliest lease or deferral end."""
        return self._earliest()

    def _earliest(self) -> datetime | None:
        return min(
            (r.lease_until for r in self.records.values() if r.status in WAITING), default=None
        )

    def statuses(self) -> dict[str, str]:
        """Status per key (for tests)."""
        return {k: r.status for k, r in self.records.items()}


def _held_for(record: _Record) -> str | None:
    if record.status == DeliveryStatus.DEFERRED.value and record.outcome is not None:
        return record.outcome.reason
    return None


class InMemoryContactBook:
    """Contact data by complaint id."""

    def __init__(
        self, phones: dict[str, str] | None = None, emails: dict[str, str] | None = None
    ) -> None:
        self.phones = dict(phones or {})
        self.emails = dict(emails or {})

    async def contacts(self, complaint_ids: Sequence[str]) -> dict[str, CustomerContact]:
        """Phone and e-mail per complaint, where known."""
        return {
            c: CustomerContact(self.phones.get(c), self.emails.get(c))
            for c in complaint_ids
            if c in self.phones or c in self.emails
        }


class InMemoryStaffDirectory:
    """A fixed list of entries (the pack's YAML directory, or a test's)."""

    def __init__(self, entries: Sequence[StaffEntry] = ()) -> None:
        self.items = list(entries)

    async def entries(self) -> Sequence[StaffEntry]:
        """Every entry."""
        return self.items


class InMemoryCaseBook:
    """Latest assignment per case."""

    def __init__(self) -> None:
        self.by_case: dict[str, Assignment] = {}

    async def record(self, assignments: Sequence[Assignment]) -> None:
        """Keep the newest assignment per case."""
        for a in assignments:
            known = self.by_case.get(a.complaint_id)
            if known is None or known.occurred_at <= a.occurred_at:
                self.by_case[a.complaint_id] = a

    async def assignments(self, complaint_ids: Sequence[str]) -> dict[str, Assignment]:
        """Latest assignment per case, where known."""
        return {c: self.by_case[c] for c in complaint_ids if c in self.by_case}


class InMemoryIncidentBook:
    """Incident membership in a dict."""

    def __init__(self) -> None:
        self.by_complaint: dict[str, IncidentMember] = {}

    async def join(self, members: Sequence[IncidentMember]) -> None:
        """Remember the members."""
        self.by_complaint.update({m.complaint_id: m for m in members})

    async def members(self, complaint_ids: Sequence[str]) -> dict[str, IncidentMember]:
        """The known memberships among `complaint_ids`."""
        return {c: self.by_complaint[c] for c in complaint_ids if c in self.by_complaint}

    async def leave(self, complaint_ids: Sequence[str]) -> None:
        """Forget these memberships."""
        for complaint_id in complaint_ids:
            self.by_complaint.pop(complaint_id, None)
