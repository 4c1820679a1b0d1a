"""When a message may go: quiet hours, staff digests and rate limits, all on injected time.

A message is never dropped here: each rule only says until when it waits.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from contracts import Audience
from notifier.domain.limits import RateLimiter
from notifier.domain.policy import DigestPolicy, NotifierPolicy, QuietHours
from notifier.domain.recipients import Delivery, Recipient

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
            recipient.address, recipient.channel, now, merged=self.merges(delivery)
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

    def merges(self, delivery: Delivery) -> bool:
        """Whether `delivery`, kept waiting by its rate limit, joins a merged message: staff
        only, on a channel whose policy merges (a group robot). A customer's never is."""
        recipient = delivery.recipient
        return (
            recipient is not None
            and delivery.intent.audience is not Audience.CUSTOMER
            and self._limiter.merge_size(recipient.channel) > 1
        )

    def merge_template(self, channel: str) -> str | None:
        """The template of a merged message on `channel` (None: never merged)."""
        limit = self._limiter.limit(channel)
        return limit.template if limit is not None else None

    def merge_size(self, channel: str) -> int:
        """Messages one merged message may carry on `channel` (1: never merged)."""
        return self._limiter.merge_size(channel)

    def take(self, recipient: Recipient, now: datetime) -> bool:
        """Take a turn for one more merged message if the robot has one free now."""
        return self._limiter.take(recipient.address, recipient.channel, now)

    def rejoin(self, delivery: Delivery, now: datetime) -> Plan:
        """A merged message's line that did not fit: it joins the next merged message (or,
        with a free token, goes now)."""
        recipient = delivery.recipient
        if recipient is None:
            return Plan()
        until = self._limiter.reserve(recipient.address, recipient.channel, now, merged=True)
        return Plan(until, RATE_LIMITED) if until is not None else Plan()

    def admit(self, recipient: str, channel: str, now: datetime) -> Plan:
        """Rate limit only: for fresh deliveries, and for deferred ones whose hold ended."""
        until = self._limiter.reserve(recipient, channel, now)
        return Plan(until, RATE_LIMITED) if until is not None else Plan()
