"""In-memory correction store for handler tests and the port's contract suite."""

from __future__ import annotations

from collections.abc import Sequence

from classifier.adapters.memory import InMemoryClassificationStore
from classifier.domain.regrade import Correction


class InMemoryCorrectionStore:
    """Corrections by action id; the decision that stands per complaint, as Mongo keeps it."""

    def __init__(self, classifications: InMemoryClassificationStore | None = None) -> None:
        self.classifications = classifications
        self.recorded: dict[str, Correction] = {}
        self.standing: dict[str, Correction] = {}
        """Complaint id → the correction now on its stored decision (`regraded` in Mongo)."""

    async def apply(self, corrections: Sequence[Correction]) -> list[str]:
        """Record new corrections; the latest per complaint stands."""
        known = self.classifications.decisions.events if self.classifications else None
        unknown: list[str] = []
        for correction in corrections:
            if known is not None and correction.complaint_id not in known:
                unknown.append(correction.complaint_id)
                continue
            self.recorded.setdefault(correction.action_id, correction)
            standing = self.standing.get(correction.complaint_id)
            if standing is None or standing.occurred_at <= correction.occurred_at:
                self.standing[correction.complaint_id] = correction
        return unknown

    async def corrections(self) -> list[Correction]:
        """Every correction, oldest first."""
        return sorted(self.recorded.values(), key=lambda c: (c.occurred_at, c.action_id))
