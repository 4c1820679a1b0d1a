"""Rate limits: a token bucket per (recipient, channel), and merge slots for group robots.

A message over its channel's limit waits for its turn, never dropped. On a channel whose
policy merges (`RateLimit.merge`: the staff group robots), a waiting message does not take a
turn of its own: it joins the next merged message to that robot (a slot: one token, up to
`merge` messages), sent as one digest at the slot's time (ADR 0043).

A bucket is kept as one number, the moment it is full again (in whole microseconds since the
epoch; a "virtual scheduling" form of the token bucket): a reservation moves it one turn
later (from now, if it was full), and goes now unless that leaves it more than `burst` turns
ahead. Customers' SMS buckets are held ten minutes after each message (0.1 a minute), so at
100 complaints a second the limiter holds 60,000 of them: the number per recipient (not an
object of datetimes) is what keeps that in a few megabytes (ADR 0043, session 13's soak).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from notifier.domain.policy import RateLimit

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def micros(moment: datetime) -> int:
    """`moment` in whole microseconds since the epoch."""
    return (moment - EPOCH) // MICROSECOND


def moment_of(us: int) -> datetime:
    """The UTC moment `us` microseconds after the epoch."""
    return EPOCH + timedelta(microseconds=us)


@dataclass
class _Buckets:
    """One channel's buckets: when each recipient's is full again, and those moments in a heap
    (one entry per reservation: stale ones are skipped), so forgetting costs a pop each."""

    step: int
    """Microseconds per token."""
    ahead: int
    """How far ahead of now a bucket may be full again with the message sent now: burst turns."""
    full: dict[str, int] = field(default_factory=dict)
    heap: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class RateLimiter:
    """Token buckets per (recipient, channel), created on first use and forgotten once full.

    A full bucket says nothing a new one would not, so it is dropped as soon as it is full
    again: the buckets held are the recipients still paying off a reservation (telecom SMS: the
    last ten minutes' customers), however long the process runs; their moments wait in a heap,
    so forgetting costs a pop per bucket, not a walk of all of them per new recipient.
    """

    limits: dict[str, RateLimit]
    _channels: dict[str, _Buckets] = field(default_factory=dict)
    _slots: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    """(recipient, channel) of a merging robot: the open merged message's time and size."""

    def __len__(self) -> int:
        """Buckets held: recipients not yet back to a full burst."""
        return sum(len(b.full) for b in self._channels.values())

    def reserve(
        self, recipient: str, channel: str, now: datetime, *, merged: bool = False
    ) -> datetime | None:
        """None to send now, else when this message's turn comes. A `merged` message (staff, on
        a channel whose policy merges) over the limit joins the merged message still open for
        that recipient (its time; no token of its own), or opens the next one with a token."""
        limit = self.limits.get(channel)
        if limit is None:
            return None
        at = micros(now)
        buckets = self._buckets(channel, limit)
        self._forget_full(buckets, channel, at)
        key = (recipient, channel)
        merging = merged and limit.merge > 1
        slot = self._slots.get(key) if merging else None
        if slot is not None and slot[0] > at and slot[1] < limit.merge:
            self._slots[key] = (slot[0], slot[1] + 1)
            return moment_of(slot[0])
        full = max(buckets.full.get(recipient, at), at) + buckets.step
        buckets.full[recipient] = full
        heapq.heappush(buckets.heap, (full, recipient))
        due = full - buckets.ahead
        if due <= at:
            return None
        if merging:
            self._slots[key] = (due, 1)
        return moment_of(due)

    def take(self, recipient: str, channel: str, now: datetime) -> bool:
        """Take a token if one is there now (never into debt); a channel without limit: yes."""
        limit = self.limits.get(channel)
        if limit is None:
            return True
        buckets = self._buckets(channel, limit)
        at = micros(now)
        if max(buckets.full.get(recipient, at), at) + buckets.step - buckets.ahead > at:
            return False
        return self.reserve(recipient, channel, now) is None

    def limit(self, channel: str) -> RateLimit | None:
        """The policy's limit on `channel`, if any."""
        return self.limits.get(channel)

    def merge_size(self, channel: str) -> int:
        """Messages one merged message may carry on `channel` (1: the channel never merges)."""
        limit = self.limits.get(channel)
        return max(1, limit.merge) if limit is not None else 1

    def reserve_undoably(
        self, recipient: str, channel: str, now: datetime, *, merged: bool = False
    ) -> tuple[datetime | None, Callable[[], None] | None]:
        """`reserve`, and a way to take the reservation back (the message will not be sent
        here after all: its key was stored before). The undo restores the bucket exactly if no
        reservation followed; after one it does nothing — the token stays spent, so the limit
        is never exceeded, at worst a later message waits one turn longer."""
        limit = self.limits.get(channel)
        if limit is None:
            return None, None
        key = (recipient, channel)
        buckets = self._buckets(channel, limit)
        self._forget_full(buckets, channel, micros(now))
        before = (buckets.full.get(recipient), self._slots.get(key))
        until = self.reserve(recipient, channel, now, merged=merged)
        after = (buckets.full.get(recipient), self._slots.get(key))

        def undo() -> None:
            if (buckets.full.get(recipient), self._slots.get(key)) != after:
                return  # a later reservation (or the bucket forgotten since): the token stays
            if before[0] is None:
                buckets.full.pop(recipient, None)
            else:
                buckets.full[recipient] = before[0]
            if before[1] is None:
                self._slots.pop(key, None)
            else:
                self._slots[key] = before[1]

        return until, undo

    def _buckets(self, channel: str, limit: RateLimit) -> _Buckets:
        buckets = self._channels.get(channel)
        if buckets is None:
            step = max(1, round(60_000_000 / limit.per_minute))
            buckets = self._channels[channel] = _Buckets(step, step * limit.burst)
        return buckets

    def _forget_full(self, buckets: _Buckets, channel: str, at: int) -> None:
        """Drop the buckets full by `at`: an entry whose bucket reserved again since is stale
        (the later entry stands for it); one whose bucket is gone is skipped."""
        heap, full = buckets.heap, buckets.full
        while heap and heap[0][0] <= at:
            _, recipient = heapq.heappop(heap)
            when = full.get(recipient)
            if when is not None and when <= at:
                del full[recipient]
                self._slots.pop((recipient, channel), None)
