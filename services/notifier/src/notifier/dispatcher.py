"""The dispatcher: sleeps until the next waiting notification is due, leases it, sends it once.

Deferred notifications (quiet hours, digests, rate limits) and claims abandoned by a crashed
sender wait in the notification log with a lease time. Several replicas may run this loop: each
due document is leased by a conditional update, so one replica sends it; a replica that dies
holding leases leaves them to expire, and another replica sends those.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from notifier.ports import NotificationLog
from notifier.service import Notifier
from servicekit.clock import Clock

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
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    def wake(self) -> None:
        """Re-check now: something may have become due earlier than we planned to sleep."""
        self._wake.set()

    async def run_once(self) -> int:
        """Lease and send every due notification (up to `batch`); returns how many."""
        now = self.clock.now()
        due = await self.log.claim_due(now=now, lease_until=now + self.lease, limit=self.batch)
        if due:
            await self.notifier.dispatch(due)
        return len(due)

    async def _nap(self) -> None:
        upcoming = await self.log.next_due_at()
        delay = self.max_sleep
        if upcoming is not None:
            business = (upcoming - self.clock.now()).total_seconds()
            delay = min(delay, max(self.min_sleep, business / self.time_scale))
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=delay)

    async def run_forever(self) -> None:
        """Loop until cancelled; infrastructure failures are logged and retried."""
        while True:
            try:
                if await self.run_once() < self.batch:
                    await self._nap()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dispatch round failed; retrying")
                await asyncio.sleep(1.0)
