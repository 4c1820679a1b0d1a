"""History for a batch: stored complaints plus the batch's own earlier complaints."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from classifier.domain.decision import History, PriorComplaint
from classifier.domain.history import top_of


class BatchHistory:
    """Earlier complaints indexed by complainant and top category; grows as a batch is decided.

    Complaints must be added in (received_at, complaint_id) order so that each one only sees
    those before it; look-ups cost O(matching priors), never a scan of everything.
    """

    def __init__(self, stored: Iterable[PriorComplaint] = ()) -> None:
        """Start from the complaints the store returned (duplicates by id are ignored)."""
        self._ids: set[str] = set()
        self._by_complainant: dict[str, list[PriorComplaint]] = defaultdict(list)
        self._by_category: dict[str, list[PriorComplaint]] = defaultdict(list)
        for prior in stored:
            self.add(prior)

    def add(self, prior: PriorComplaint) -> None:
        """Make `prior` visible to complaints received after it (once per complaint id)."""
        if prior.complaint_id in self._ids:
            return
        self._ids.add(prior.complaint_id)
        if prior.complainant_key:
            self._by_complainant[prior.complainant_key].append(prior)
        if top := top_of(prior.category):
            self._by_category[top].append(prior)

    def __contains__(self, complaint_id: object) -> bool:
        """Whether a complaint of this id is already known."""
        return complaint_id in self._ids

    def for_complaint(
        self,
        *,
        complaint_id: str,
        complainant_key: str | None,
        category: str | None,
        received_at: datetime,
    ) -> History:
        """Complaints strictly before this one by the same complainant; every other known one
        in its category (a mass incident counts those received after it but decided first)."""
        mark = (received_at, complaint_id)

        def earlier(prior: PriorComplaint) -> bool:
            return (
                prior.complaint_id != complaint_id
                and (prior.received_at, prior.complaint_id) < mark
            )

        mine = self._by_complainant.get(complainant_key, []) if complainant_key else []
        top = top_of(category)
        theirs = self._by_category.get(top, []) if top else []
        return History(
            same_complainant=tuple(p for p in mine if earlier(p)),
            same_category_recent=tuple(p for p in theirs if p.complaint_id != complaint_id),
        )
