"""Retention of the raw channel payloads: the app prunes them, as FerretDB has no TTL index."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from intake.ports import ComplaintStore
from servicekit.clock import Clock
from servicekit.timer import DueLoop

log = logging.getLogger(__name__)


@dataclass
class RawPayloadRetention:
    """Deletes raw payloads older than `keep`, `batch` at a time, every `every_seconds`."""

    store: ComplaintStore
    clock: Clock
    keep: timedelta
    every_seconds: float = 3600.0
    batch: int = 10_000
    _loop: DueLoop = field(init=False)

    def __post_init__(self) -> None:
        # min = max: the loop naps the full interval unless a round came back full.
        self._loop = DueLoop(
            name="raw-payload-retention",
            clock=self.clock,
            max_sleep=self.every_seconds,
            min_sleep=self.every_seconds,
        )

    async def run_once(self) -> int:
        """Prune one batch of expired payloads; how many were deleted."""
        before = self.clock.now() - self.keep
        deleted = await self.store.prune_raw_payloads(before=before, limit=self.batch)
        if deleted:
            log.info("raw payloads pruned", extra={"fields": {"deleted": deleted}})
        return deleted

    async def _round(self) -> bool:
        return await self.run_once() >= self.batch

    async def run_forever(self) -> None:
        """Prune until cancelled; failures are logged and retried by the loop."""
        await self._loop.run(self._round, _never)


async def _never() -> datetime | None:
    return None
