"""When a message may go: quiet hours, staff digests and rate limits, all on injected time.

A message is never dropped here: each rule only says until when it waits.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from contracts import Audience
from notifier.domain.policy import DigestPolicy, NotifierPolicy, QuietHours, RateLimit
from notifier.domain.recipients import Delivery

QUIET_HOURS = "quiet_hours"
DIGEST = "digest"
RATE_LIMITED = "rate_limited"


def quiet_until(moment: datetime, quiet: QuietHours) -> datetime | None:
    """The end of the quiet window `moment` falls in (UTC), or None outside it."""
    local = moment.astimezone(quiet.timezone)
    now, start, end = local.time(), quiet.start, quiet.end
    if start == end:
        return None
    if start < end:
        inside, next_day = start <= now < end, False
    else:  # the window spans midnight, e.g. 21:00-08:00
        inside, next_day = now >= start or now < end, now >= start
    if not inside:
        return None
    day = local.date() + timedelta(days=1 if next_day else 0)
    return datetime.combine(day, end, tzinfo=quiet.timezone).astimezone(UTC)


def is_quiet_sensitive(delivery: Delivery, quiet: QuietHours) -> bool:
    """Customer SMS wait for the morning, except exempt severities (P1) and templates."""
    intent, recipient = delivery.intent, delivery.recipient
    return (
        recipient is not None
        and recipient.channel == "sms"
        and intent.audience is Audience.CUSTOMER
        and intent.severity not in quiet.exempt_severities
        and intent.template not in quiet.exempt_templates
    )


@dataclass(slots=True)
class TokenBucket:
    """Tokens refill at `rate` per second up to `burst`; a reservation may go into debt."""

    rate: float
    burst: int
    tokens: float
    updated: datetime
    serial: int = 0
    """Reservations made so far: an undo applies only to the latest."""

    def reserve(self, now: datetime) -> datetime | None:
        """Take one token: None if one was there, else the time the reservation comes due."""
        elapsed = max(0.0, (now - self.updated).total_seconds())
        self.tokens = min(float(self.burst), self.tokens + elapsed * self.rate)
        self.updated = max(self.updated, now)
        self.tokens -= 1.0
        if self.tokens >= 0.0:
            return None
        return self.updated + timedelta(seconds=-self.tokens / self.rate)

    def full_at(self, now: datetime) -> bool:
        """Whether the bucket would be full by `now` (then it can be forgotten)."""
        elapsed = max(0.0, (now - self.updated).total_seconds())
        return self.tokens + elapsed * self.rate >= self.burst

    def full_when(self) -> datetime:
        """When the bucket is full again if nothing is reserved meanwhile (a microsecond late
        rather than early: `full_at` holds then)."""
        missing = max(0.0, self.burst - self.tokens)
        return self.updated + timedelta(seconds=missing / self.rate, microseconds=1)


@dataclass
class RateLimiter:
    """Token buckets per (recipient, channel), created on first use and forgotten once full.

    A full bucket says nothing a new one would not, so it is dropped as soon as it is full
    again: the buckets held are the recipients still paying off a reservation (telecom SMS: the
    last ten minutes' customers), however long the process runs. The moments buckets come full
    wait in a heap, so forgetting costs a pop per bucket, not a walk of all of them per new
    recipient (that walk, once 10,000 customers were held, was most of the notifier's CPU).
    """

    limits: dict[str, RateLimit]
    _buckets: dict[tuple[str, str], TokenBucket] = field(default_factory=dict)
    _full: list[tuple[datetime, tuple[str, str]]] = field(default_factory=list)
    """(when a bucket comes full, its key), one entry per reservation; stale ones are skipped."""

    def __len__(self) -> int:
        """Buckets held: recipients not yet back to a full burst."""
        return len(self._buckets)

    def reserve(self, recipient: str, channel: str, now: datetime) -> datetime | None:
        """None to send now, else when this message's turn comes."""
        limit = self.limits.get(channel)
        if limit is None:
            return None
        self._forget_full(now)
        key = (recipient, channel)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = TokenBucket(limit.per_minute / 60.0, limit.burst, float(limit.burst), now)
            self._buckets[key] = bucket
        until = bucket.reserve(now)
        bucket.serial += 1
        heapq.heappush(self._full, (bucket.full_when(), key))
        return until

    def reserve_undoably(
        self, recipient: str, channel: str, now: datetime
    ) -> tuple[datetime | None, Callable[[], None] | None]:
        """`reserve`, and a way to take the reservation back (the message will not be sent
        here after all: its key was stored before). The undo restores the bucket exactly if no
        reservation followed; after one it does nothing — the token stays spent, so the limit
        is never exceeded, at worst a later message waits one turn longer."""
        key = (recipient, channel)
        if channel not in self.limits:
            return None, None
        self._forget_full(now)
        bucket = self._buckets.get(key)
        before = (bucket.tokens, bucket.updated, bucket.serial) if bucket else None
        until = self.reserve(recipient, channel, now)
        taken = self._buckets[key]
        serial = taken.serial

        def undo() -> None:
            if self._buckets.get(key) is not taken or taken.serial != serial:
                return
            if before is None:
                del self._buckets[key]  # made for this reservation: as if never made
            else:
                taken.tokens, taken.updated, taken.serial = before

        return until, undo

    def _forget_full(self, now: datetime) -> None:
        """Drop the buckets full by `now`: an entry whose bucket reserved again since is stale
        (the later entry stands for it); one whose bucket is gone or new is skipped."""
        full = self._full
        while full and full[0][0] <= now:
            _, key = heapq.heappop(full)
            bucket = self._buckets.get(key)
            if bucket is not None and bucket.full_at(now):
                del self._buckets[key]


@dataclass
class DigestGate:
    """Counts digestible messages per recipient; past the limit, holds them for one digest."""

    policy: DigestPolicy
    _recent: dict[str, deque[datetime]] = field(default_factory=dict)
    _open_until: dict[str, datetime] = field(default_factory=dict)
    _serial: dict[str, int] = field(default_factory=dict)
    """Messages counted per recipient (by `hold_until_undoably`): an undo applies to the latest."""

    def hold_until_undoably(
        self, recipient: str, now: datetime
    ) -> tuple[datetime | None, Callable[[], None]]:
        """`hold_until`, and a way to take the message back out of the count (its key was
        stored before): exact if no message for `recipient` came since, else nothing."""
        recent = self._recent.get(recipient)
        before = (tuple(recent) if recent is not None else None, self._open_until.get(recipient))
        until = self.hold_until(recipient, now)
        serial = self._serial[recipient] = self._serial.get(recipient, 0) + 1

        def undo() -> None:
            if self._serial.get(recipient) != serial:
                return
            self._serial[recipient] = serial - 1
            count, open_until = before
            if count is None:
                self._recent.pop(recipient, None)
            else:
                self._recent[recipient] = deque(count)
            if open_until is None:
                self._open_until.pop(recipient, None)
            else:
                self._open_until[recipient] = open_until

        return until, undo

    def hold_until(self, recipient: str, now: datetime) -> datetime | None:
        """None to send now, else when the digest this message joins goes out."""
        open_until = self._open_until.get(recipient)
        if open_until is not None and now < open_until:
            return open_until
        recent = self._recent.setdefault(recipient, deque())
        while recent and recent[0] <= now - self.policy.window:
            recent.popleft()
        recent.append(now)
        if len(recent) <= self.policy.max_items:
            return None
        recent.clear()
        self._open_until[recipient] = now + self.policy.window
        return now + self.policy.window


@dataclass(frozen=True)
class Plan:
    """Send now (`deliver_after` None) or wait, and why."""

    deliver_after: datetime | None = None
    reason: str | None = None
    undo: Callable[[], None] | None = field(default=None, compare=False, repr=False)
    """Takes back what making the plan reserved (a digest count, a rate limit's token)."""


class Planner:
    """Decides for each delivery whether it goes now; the state lives in this process."""

    def __init__(self, policy: NotifierPolicy) -> None:
        self._quiet = policy.quiet_hours
        self._digest = DigestGate(policy.digest) if policy.digest else None
        self._limiter = RateLimiter(dict(policy.rate_limits))

    def held(self, delivery: Delivery, now: datetime) -> Plan | None:
        """A plan known without touching any state (the digest gate and the rate limiter
        reserve), so made before the claim: quiet hours, or an empty plan when there is no
        recipient (nothing will be sent); None when the delivery is for `plan` to decide."""
        if delivery.recipient is None:
            return Plan()
        if self._quiet and is_quiet_sensitive(delivery, self._quiet):
            until = quiet_until(now, self._quiet)
            if until is not None:
                return Plan(until, QUIET_HOURS)
        return None

    def plan(self, delivery: Delivery, now: datetime) -> Plan:
        """A fresh delivery: quiet hours, then digest, then rate limit. Made before the claim:
        if the key turns out stored before, `release` the plan (its reservations go back)."""
        recipient = delivery.recipient
        if recipient is None:
            return Plan()
        if (quiet := self.held(delivery, now)) is not None:
            return quiet
        undo_digest: Callable[[], None] | None = None
        if self._digest and delivery.intent.digestible:
            until, undo_digest = self._digest.hold_until_undoably(
                f"{recipient.id}/{recipient.channel}", now
            )
            if until is not None:
                return Plan(until, DIGEST, undo_digest)
        until, undo_limit = self._limiter.reserve_undoably(
            recipient.address, recipient.channel, now
        )
        reason = RATE_LIMITED if until is not None else None
        if undo_digest is None or undo_limit is None:
            return Plan(until, reason, undo_limit or undo_digest)
        limit_undo, digest_undo = undo_limit, undo_digest

        def undo_both() -> None:
            limit_undo()
            digest_undo()

        return Plan(until, reason, undo_both)

    @staticmethod
    def release(plans: list[Plan]) -> None:
        """Take back the reservations of plans not carried out, the latest first."""
        for plan in reversed(plans):
            if plan.undo is not None:
                plan.undo()

    def admit(self, recipient: str, channel: str, now: datetime) -> Plan:
        """Rate limit only: for fresh deliveries, and for deferred ones whose hold ended."""
        until = self._limiter.reserve(recipient, channel, now)
        return Plan(until, RATE_LIMITED) if until is not None else Plan()
