"""What the notifier needs from the outside world."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from contracts import DeliveryStatus
from notifier.domain import (
    Assignment,
    CustomerContact,
    Delivery,
    IncidentMember,
    Intent,
    StaffEntry,
)


@dataclass(frozen=True)
class Outcome:
    """How one claimed delivery ended, or until when it waits."""

    delivery: Delivery
    channel: str
    status: DeliveryStatus
    attempts: int
    reason: str | None
    latency_ms: float | None
    deliver_after: datetime | None = None
    settled_at: datetime | None = None
    """When the outcome was stored (stored outcomes only): the time of its receipt."""
    fresh: bool = False
    """Sent before anything was stored under its key (`Claims.fresh`): the log inserts the
    document with this outcome, one write, instead of updating a claim."""

    @property
    def intent(self) -> Intent:
        """The intent delivered."""
        return self.delivery.intent

    def stored_at(self, at: datetime) -> Outcome:
        """The outcome as the log keeps it, stored at `at` (its receipt's time): a delivered
        one's latency runs from the trigger to `at`, in whole milliseconds as MongoDB keeps
        both, so that a redelivery republishes the same receipt from the stored fields."""
        latency = None
        if self.status is DeliveryStatus.DELIVERED:
            trigger = self.intent.trigger_time
            trigger = trigger.replace(microsecond=trigger.microsecond // 1000 * 1000)
            latency = max(0.0, round((at - trigger).total_seconds() * 1000, 1))
        # Built directly: `dataclasses.replace` was 6 % of the handler's CPU (two per notice).
        return Outcome(
            self.delivery,
            self.channel,
            self.status,
            self.attempts,
            self.reason,
            latency,
            self.deliver_after,
            at,
        )

    def as_fresh(self) -> Outcome:
        """This outcome of a delivery sent before anything was stored (`fresh`)."""
        return Outcome(
            self.delivery,
            self.channel,
            self.status,
            self.attempts,
            self.reason,
            self.latency_ms,
            self.deliver_after,
            self.settled_at,
            fresh=True,
        )

    @property
    def key(self) -> str:
        """The delivery's idempotency key."""
        return self.delivery.key

    @property
    def recipient(self) -> str | None:
        """The masked recipient, for receipts."""
        return self.delivery.recipient.shown if self.delivery.recipient else None


@dataclass(frozen=True)
class Claims:
    """What claiming a batch of deliveries came to."""

    claimed: list[Delivery]
    """Ours to send: nobody had the key, or its sender's lease ran out."""
    settled: list[Outcome]
    """Stored outcomes (final or deferred) of keys taken before: their receipts go out again."""
    held: int = 0
    """Keys another sender holds under a live lease (nothing to do here)."""
    decided: list[Outcome] = field(default_factory=list)
    """Outcomes known before sending, stored by the claim's own insert (at the claim's `now`):
    nothing to send, no second write; their receipts go out."""
    fresh: list[Delivery] = field(default_factory=list)
    """Ours to send, asked for as `send_first` and stored under no key: nothing was written for
    them; their outcomes are inserted once sent (`Outcome.fresh`)."""


@dataclass(frozen=True)
class Due:
    """A deferred (or abandoned) delivery whose time has come, with why it had waited."""

    delivery: Delivery
    held_for: str | None


@dataclass(frozen=True)
class DueRound:
    """What one dispatcher round leased, and when the earliest delivery still waiting comes
    due as that round's own reads saw it (None: nothing waits), so no second read is needed."""

    due: list[Due]
    next_due_at: datetime | None


class NotificationLog(Protocol):
    """`notifications`: one document per key — the unique key is the exactly-once guarantee."""

    async def ensure_indexes(self) -> None:
        """Indexes for the dispatcher and for reporting by complaint."""

    async def claim(
        self,
        deliveries: Sequence[Delivery],
        *,
        now: datetime,
        lease_until: datetime,
        decided: Mapping[str, Outcome] | None = None,
        send_first: AbstractSet[str] = frozenset(),
    ) -> Claims:
        """Take the deliveries nobody has taken, or whose sender's lease ran out; return the
        stored outcomes of the others (a redelivery publishes their receipts again). A new key
        with an outcome in `decided` (by key: deferred by the plan, or nowhere to send it) is
        inserted with that outcome, stored at `now`: one write, not a claim and an update.
        A key in `send_first` (a channel whose provider drops a repeated key, ADR 0038) is only
        looked up, not claimed: stored under no key, it comes back in `fresh`."""

    async def complete(
        self, outcomes: Sequence[Outcome], *, now: datetime
    ) -> dict[str, Outcome | None]:
        """Record how each delivery ended, or that it waits, at `now` (which is also its
        receipt's time): one write per outcome, no receipt mark after it — an update of the
        claim, or for a `fresh` outcome the insert of its document. Returns the fresh keys
        another sender stored first (a race, or a redelivery overtaking a failed store): its
        stored outcome, whose receipt stands instead of this one, or None while it is still
        being sent (its sender records and announces it)."""

    async def extend(self, keys: Sequence[str], *, lease_until: datetime) -> None:
        """Move the lease of these claims (still waiting or being sent) to `lease_until`: the
        sender holding them is alive. A sender that died stops extending, so its claims come
        due within one lease (not a fixed long one) and the dispatcher sends them."""

    async def templates(self, keys: Sequence[str]) -> dict[str, str]:
        """The template each claimed key among `keys` was claimed with."""

    async def claim_due(self, *, now: datetime, lease_until: datetime, limit: int) -> DueRound:
        """Lease deferred deliveries that are due, and abandoned ones whose lease ran out; say
        when the next comes due (the leased ones included, at their new lease's end)."""

    async def next_due_at(self) -> datetime | None:
        """When the earliest waiting delivery (or lease) comes due."""


class ContactBook(Protocol):
    """Raw contact data intake keeps for the notifier (never on broad topics)."""

    async def contacts(self, complaint_ids: Sequence[str]) -> dict[str, CustomerContact]:
        """Phone and e-mail per complaint id, where any is on file."""


class StaffDirectory(Protocol):
    """Staff recipients per audience, department and staff id (pack YAML and/or MongoDB)."""

    async def entries(self) -> Sequence[StaffEntry]:
        """Every directory entry."""


class CaseBook(Protocol):
    """Who handles which case, from accepted `assigned` actions."""

    async def record(self, assignments: Sequence[Assignment]) -> None:
        """Keep each case's latest assignment (an older one never overwrites a newer one)."""

    async def assignments(self, complaint_ids: Sequence[str]) -> dict[str, Assignment]:
        """The latest assignment per case, where one is known."""


class IncidentBook(Protocol):
    """Which complaints belong to which incident (from decisions and incident events)."""

    async def join(self, members: Sequence[IncidentMember]) -> None:
        """Remember the members (a later incident event overwrites an earlier one's view)."""

    async def members(self, complaint_ids: Sequence[str]) -> dict[str, IncidentMember]:
        """The incident each of `complaint_ids` belongs to, where one is known."""

    async def leave(self, complaint_ids: Sequence[str]) -> None:
        """Forget the membership of complaints taken out of their incident."""
