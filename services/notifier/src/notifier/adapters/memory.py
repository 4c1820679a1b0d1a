"""In-memory notifier state for handler tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from notifier.domain import Intent
from notifier.ports import Outcome


class InMemoryNotificationLog:
    """Claims in a dict keyed like the Mongo `_id`."""

    def __init__(self) -> None:
        self.claims: dict[str, tuple[str, datetime]] = {}
        self.outcomes: dict[str, Outcome] = {}
        self.receipted: set[str] = set()

    async def ensure_indexes(self) -> None:
        """Nothing to index in memory."""

    async def claim(
        self, intents: Sequence[Intent], *, now: datetime, stale_before: datetime
    ) -> list[Intent]:
        """Claim unseen keys and stale 'sending' ones."""
        claimed = []
        for intent in {i.key: i for i in intents}.values():
            held = self.claims.get(intent.key)
            if held is None or (held[0] == "sending" and held[1] < stale_before):
                self.claims[intent.key] = ("sending", now)
                claimed.append(intent)
        return claimed

    async def complete(self, outcomes: Sequence[Outcome], *, now: datetime) -> None:
        """Record outcomes."""
        for outcome in outcomes:
            self.claims[outcome.intent.key] = (outcome.status, now)
            self.outcomes[outcome.intent.key] = outcome
            self.receipted.discard(outcome.intent.key)

    async def unreceipted(self, keys: Sequence[str]) -> list[Outcome]:
        """Ended notifications whose receipt was not published."""
        return [
            self.outcomes[k]
            for k in dict.fromkeys(keys)
            if k in self.outcomes and k not in self.receipted
        ]

    async def mark_receipted(self, keys: Sequence[str]) -> None:
        """Flag the receipts as published."""
        self.receipted.update(keys)


class InMemoryContactBook:
    """Phones by complaint id."""

    def __init__(self, phones: dict[str, str] | None = None) -> None:
        self.by_complaint = dict(phones or {})

    async def phones(self, complaint_ids: Sequence[str]) -> dict[str, str]:
        """Phone per complaint, where known."""
        return {c: self.by_complaint[c] for c in complaint_ids if c in self.by_complaint}
