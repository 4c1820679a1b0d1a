"""History for a batch: stored complaints plus the batch's own earlier complaints."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from classifier.domain.decision import History, PriorComplaint
from classifier.domain.history import top_of


class _Whole:
    """`for_complaint` without an area: every known complaint of the top category."""


WHOLE = _Whole()


class BatchHistory:
    """Earlier complaints indexed by complainant, top category and issue; grows as a batch is
    decided.

    Complaints must be added in (received_at, complaint_id) order so that each one only sees
    those before it; look-ups cost O(matching priors), never a scan of everything.
    """

    def __init__(self, stored: Iterable[PriorComplaint] = ()) -> None:
        """Start from the complaints the store returned (duplicates by id are ignored)."""
        self._ids: set[str] = set()
        self._by_complainant: dict[str, list[PriorComplaint]] = defaultdict(list)
        self._by_category: dict[str, list[PriorComplaint]] = defaultdict(list)
        # The issues the history rules compare (history.py `_issues`): top category in one
        # area, whole category path anywhere; each entry numbered in the order added.
        self._by_area: dict[tuple[str, str], list[tuple[int, PriorComplaint]]] = defaultdict(list)
        self._by_path: dict[str, list[tuple[int, PriorComplaint]]] = defaultdict(list)
        for prior in stored:
            self.add(prior)

    def add(self, prior: PriorComplaint) -> None:
        """Make `prior` visible to complaints received after it (once per complaint id)."""
        ids = self._ids
        if prior.complaint_id in ids:
            return
        number = len(ids)
        ids.add(prior.complaint_id)
        if prior.complainant_key:
            self._by_complainant[prior.complainant_key].append(prior)
        if (category := prior.category) and (top := category.split("/", 1)[0]):
            self._by_category[top].append(prior)
            self._by_path[category].append((number, prior))
            if prior.area:
                self._by_area[(top, prior.area)].append((number, prior))

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
        area: str | _Whole | None = WHOLE,
    ) -> History:
        """Complaints strictly before this one by the same complainant; every other known one
        in its category (a mass incident counts those received after it but decided first).

        Given the complaint's `area`, only those of its issues (same top category in that area,
        or the same whole category path): all that the hot-issue and mass-incident rules count,
        in the same order, so their findings are the same; the rest of a busy category is not
        handed to `decide` to be scanned again for every complaint.
        """
        mark = (received_at, complaint_id)

        def earlier(prior: PriorComplaint) -> bool:
            return (
                prior.complaint_id != complaint_id
                and (prior.received_at, prior.complaint_id) < mark
            )

        mine = self._by_complainant.get(complainant_key, []) if complainant_key else []
        top = top_of(category)
        theirs: list[PriorComplaint] = self._by_category.get(top, []) if top else []
        if top and not isinstance(area, _Whole):
            theirs = self._issues(top, category or top, area)
        # The complaint itself is among them only when it was stored before (a redelivery).
        recent = (
            tuple(p for p in theirs if p.complaint_id != complaint_id)
            if complaint_id in self._ids
            else tuple(theirs)
        )
        return History(
            same_complainant=tuple(p for p in mine if earlier(p)), same_category_recent=recent
        )

    def _issues(self, top: str, category: str, area: str | None) -> list[PriorComplaint]:
        """Those of (top, area) and of the whole path `category`, in the order added."""
        in_area = self._by_area.get((top, area), []) if area else []
        on_path = self._by_path.get(category, []) if "/" in category else []
        if not in_area or not on_path:
            return [p for _, p in in_area or on_path]
        return [p for _, p in sorted(dict([*in_area, *on_path]).items())]
