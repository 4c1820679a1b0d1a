"""Claims being sent keep their lease alive, so only a dead sender's claims come due."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta

from notifier.ports import NotificationLog
from servicekit.clock import Clock

log = logging.getLogger(__name__)


async def _renew(
    notifications: NotificationLog,
    keys: Sequence[str],
    *,
    clock: Clock,
    lease: timedelta,
    every: float,
) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await notifications.extend(keys, lease_until=clock.now() + lease)
        except Exception:  # a missed renewal risks one resend under the same key, no more
            log.warning("claim lease renewal failed", exc_info=True)


@contextlib.asynccontextmanager
async def kept_alive(
    notifications: NotificationLog,
    keys: Sequence[str],
    *,
    clock: Clock,
    lease: timedelta,
    every: float | None = None,
) -> AsyncIterator[None]:
    """Extend the lease of `keys` every `every` real seconds (default: a third of the lease)
    while the block runs. A short lease then hands a crashed sender's claims to the dispatcher
    within one lease, while a slow live sender (retries, backoff) is never taken over."""
    if not keys:
        yield
        return
    period = every or lease.total_seconds() / 3
    task = asyncio.create_task(_renew(notifications, keys, clock=clock, lease=lease, every=period))
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
