"""The dispatcher: sleeps until the next waiting notification is due, leases it, sends it once.

Deferred notifications (quiet hours, digests, rate limits) and claims abandoned by a crashed
sender wait in the notification log with a lease time. Several replicas may run this loop: each
due document is leased by a conditional update, so one replica sends it; a replica that dies
holding leases leaves them to expire, and another replica sends those.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from notifier.ports import NotificationLog
from notifier.service import Notifier
from servicekit.clock import Clock
from servicekit.timer import DueLoop

log = logging.getLogger(__name__)


@dataclass
class Dispatcher:
    """Sends due notifications exactly once across replicas."""

    notifier: Notifier
    log: NotificationLog
    clock: Clock
    lease: timedelta = timedelta(minutes=2)
    batch: int = 200
    max_sleep: float = 1.0
    min_sleep: float = 0.01
    time_scale: float = 1.0
    _loop: DueLoop = field(init=False)
    _next_due: datetime | None = field(default=None, init=False)
    _known: bool = field(default=False, init=False)
    """Whether `_next_due` is still what the last round saw (nothing woke the loop since)."""

    def __post_init__(self) -> None:
        self._loop = DueLoop(
            name="dispatch",
            clock=self.clock,
            max_sleep=self.max_sleep,
            min_sleep=self.min_sleep,
            time_scale=self.time_scale,
        )

    def wake(self, at: datetime | None = None) -> None:
        """Something waits from `at` on (a deferral just stored): the next nap ends by then, and
        a nap ending sooner goes on (no round, no read). Without `at`, re-check now (a read)."""
        if at is None:
            self._known = False
        elif self._known:
            self._next_due = at if self._next_due is None else min(self._next_due, at)
        self._loop.wake(at)

    async def run_once(self) -> int:
        """Lease and send every due notification (up to `batch`); returns how many."""
        now = self.clock.now()
        found = await self.log.claim_due(now=now, lease_until=now + self.lease, limit=self.batch)
        self._next_due, self._known = found.next_due_at, True
        if found.due:
            await self.notifier.dispatch(found.due)
        return len(found.due)

    async def next_due_at(self) -> datetime | None:
        """When to wake next: what the last round's reads saw and the deferrals stored since
        (each wakes the loop with its time), or, after a wake without one, a read of the log."""
        return self._next_due if self._known else await self.log.next_due_at()

    async def _round(self) -> bool:
        return await self.run_once() >= self.batch

    async def run_forever(self) -> None:
        """Send until cancelled; infrastructure failures are logged and retried."""
        await self._loop.run(self._round, self.next_due_at)
