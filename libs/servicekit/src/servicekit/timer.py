"""A loop for work that falls due at known times: deadlines to fire, deferred messages to send.

It runs a round at once while rounds come back full, otherwise naps until the next due time (in
business time, so a scaled demo clock shortens the nap) within [min_sleep, max_sleep] real
seconds, and wakes early when `wake()` says new work may be due sooner. A failing round (the
database or broker away) is logged and retried a second later; only cancellation stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from servicekit.clock import Clock, ScaledClock

log = logging.getLogger(__name__)
RETRY_AFTER = 1.0


@dataclass
class DueLoop:
    """Sleeps until the next due time; see the module docstring."""

    name: str
    clock: Clock
    max_sleep: float
    min_sleep: float
    time_scale: float = 1.0
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    def wake(self) -> None:
        """Re-check now: something may have become due earlier than the current nap ends."""
        self._wake.set()

    def delay(self, upcoming: datetime | None) -> float:
        """Real seconds to nap before `upcoming` (business time) is due."""
        if upcoming is None:
            return self.max_sleep
        if isinstance(self.clock, ScaledClock):  # its pace may change before `upcoming`
            real = self.clock.real_seconds_until(upcoming)
        else:
            real = (upcoming - self.clock.now()).total_seconds() / self.time_scale
        return min(self.max_sleep, max(self.min_sleep, real))

    async def nap(self, upcoming: datetime | None) -> None:
        """Sleep until `upcoming` is due, or until woken."""
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=self.delay(upcoming))

    async def run(
        self,
        round_: Callable[[], Awaitable[bool]],
        next_due: Callable[[], Awaitable[datetime | None]],
    ) -> None:
        """Run rounds until cancelled; `round_` answers whether it was full (go again at once)."""
        while True:
            try:
                if not await round_():
                    await self.nap(await next_due())
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s round failed; retrying", self.name)
                await asyncio.sleep(RETRY_AFTER)
