"""A loop for work that falls due at known times: deadlines to fire, deferred messages to send.

It runs a round at once while rounds come back full, otherwise naps until the next due time (in
business time, so a scaled demo clock shortens the nap) within [min_sleep, max_sleep] real
seconds, and wakes early when `wake()` says new work may be due sooner. A wake that names its due
time (`wake(at)`) cuts a nap short only if the nap would end after it, and one arriving during a
round shortens the nap that follows to it: new work far ahead costs no round, and new work due
soon is not lost to a round that read before it was written. A failing round (the database or
broker away) is logged and retried a second later; only cancellation stops it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from servicekit.clock import Clock, ScaledClock

log = logging.getLogger(__name__)
RETRY_AFTER = 1.0
TIMER_SLACK = 0.002  # seconds past the due time: a timer firing a hair early finds nothing due


@dataclass
class DueLoop:
    """Sleeps until the next due time; see the module docstring."""

    name: str
    clock: Clock
    max_sleep: float
    min_sleep: float
    time_scale: float = 1.0
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _asked: datetime | None = None  # the earliest due time named by a wake since the round began
    _napping: bool = False
    _until: datetime | None = None  # when the current nap ends (business time), if known

    def wake(self, at: datetime | None = None) -> None:
        """Re-check: something may be due (at `at`, if given) before the current nap ends.

        Without `at`, a wake during a round is dropped (the round re-checks anyway, and a round
        that wakes its own loop must not spin).
        """
        if at is not None:
            self._asked = at if self._asked is None else min(self._asked, at)
        if self._napping and (at is None or self._until is None or at < self._until):
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
        """Sleep until `upcoming` (or a sooner time a wake named) is due, or until woken."""
        known = [t for t in (upcoming, self._asked) if t is not None]
        target = min(known) if known else None
        delay = self.delay(target)
        if not isinstance(self.clock, ScaledClock):
            self._until = self.clock.now() + timedelta(seconds=delay * self.time_scale)
        elif target is not None and self.min_sleep < delay < self.max_sleep:
            self._until = target
        self._napping = True
        self._wake.clear()
        try:
            await asyncio.wait_for(
                self._wake.wait(), timeout=delay + (TIMER_SLACK if target else 0.0)
            )
        except TimeoutError:
            pass
        finally:
            self._napping, self._until = False, None

    async def run(
        self,
        round_: Callable[[], Awaitable[bool]],
        next_due: Callable[[], Awaitable[datetime | None]],
    ) -> None:
        """Run rounds until cancelled; `round_` answers whether it was full (go again at once)."""
        while True:
            try:
                # A due time a wake names from here on, the round may not see: its nap does.
                self._asked = None
                if not await round_():
                    await self.nap(await next_due())
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s round failed; retrying", self.name)
                await asyncio.sleep(RETRY_AFTER)
