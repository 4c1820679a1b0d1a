"""Scheduler replicas' liveness: whose claims on unpublished firings still hold.

A firing's compare-and-set records the replica that made it (`Lease.owner`) on the fired clock
entries. Until that replica has published the events, no other replica may republish them — unless
the owner is gone. Each replica renews a small liveness document every `beat_every` (≈ 0.2 s); a
claim holds while its owner's last beat is at most `stale_after` old (≈ 0.6 s) and the lease's
`until` (the old fixed lease, now only a backstop for a replica that beats but never publishes)
has not passed. So a live but slow replica keeps its claims, and a killed one loses them within
a second. A replica stopping cleanly deletes its document: its claims are free at once.
Replicas compare beats with their own clocks (kept in step by NTP, as every due time is): a skew
beyond `stale_after` can make a live replica look dead — its events may then reach Kafka twice
under the same id, never a threshold fired twice (ADR 0025).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from servicekit.clock import Clock
from sla.clocks.sheet import Lease

log = logging.getLogger(__name__)


class Liveness(Protocol):
    """One small document per scheduler replica with the time of its last beat."""

    async def beat(self, owner: str, *, now: datetime) -> None:
        """Record that `owner` is alive at `now`."""

    async def beats(self, owners: Sequence[str]) -> dict[str, datetime]:
        """The last beat of each of these replicas that has one (one read)."""

    async def leave(self, owner: str) -> None:
        """`owner` stopped cleanly: its claims are free at once."""


@dataclass(frozen=True)
class ClaimRule:
    """When another replica's claim on unpublished firings still holds."""

    stale_after: timedelta = timedelta(seconds=0.6)

    def holds(self, lease: Lease, *, beats: Mapping[str, datetime], now: datetime) -> bool:
        """The owner beat within `stale_after` and the lease's backstop has not passed."""
        beat = beats.get(lease.owner)
        return lease.until > now and beat is not None and now - beat <= self.stale_after


async def beat_forever(liveness: Liveness, owner: str, *, clock: Clock, every: float) -> None:
    """Renew `owner`'s beat every `every` real seconds until cancelled (a failed beat is logged;
    the next one may succeed before the claims go stale)."""
    while True:
        try:
            await liveness.beat(owner, now=clock.now())
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("scheduler heartbeat failed; retrying")
        await asyncio.sleep(every)
