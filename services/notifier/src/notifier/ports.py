"""What the notifier needs from the outside world."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from notifier.domain import Intent


@dataclass(frozen=True)
class Outcome:
    """How one claimed notification ended."""

    intent: Intent
    channel: str
    status: str
    attempts: int
    recipient: str | None
    reason: str | None
    latency_ms: float | None


class NotificationLog(Protocol):
    """`notifications`: one document per key — the unique key is the exactly-once guarantee."""

    async def ensure_indexes(self) -> None:
        """Indexes for reporting by complaint and status."""

    async def claim(
        self, intents: Sequence[Intent], *, now: datetime, stale_before: datetime
    ) -> list[Intent]:
        """Take the intents nobody has sent (or whose sender died before `stale_before`)."""

    async def complete(self, outcomes: Sequence[Outcome], *, now: datetime) -> None:
        """Record how each claimed notification ended (its receipt not yet published)."""

    async def unreceipted(self, keys: Sequence[str]) -> list[Outcome]:
        """Ended notifications among `keys` whose receipt was never published."""

    async def mark_receipted(self, keys: Sequence[str]) -> None:
        """Remember that these notifications' receipts reached Kafka."""


class ContactBook(Protocol):
    """Raw contact data intake keeps for the notifier (never on broad topics)."""

    async def phones(self, complaint_ids: Sequence[str]) -> dict[str, str]:
        """E.164 phone per complaint id, where one is on file."""
