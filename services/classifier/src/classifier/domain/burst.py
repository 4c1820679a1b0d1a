"""The mass-incident rule's burst: an issue's members, and the busiest window around a complaint."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import datetime, timedelta
from operator import attrgetter

from classifier.domain.decision import PriorComplaint
from classifier.domain.incident import WIDE

_RECEIVED = attrgetter("received_at")


def members_of(
    near: list[PriorComplaint], issues: list[tuple[str, str]]
) -> list[tuple[tuple[str, str], list[PriorComplaint]]]:
    """Those of `near` about each issue (`covers`), in order, from one pass over `near`."""
    found: list[list[PriorComplaint]] = [[] for _ in issues]
    for prior in near:
        category = prior.category
        if not category:
            continue
        top = category.split("/", 1)[0]
        for index, (issue, area) in enumerate(issues):
            if category == issue if area == WIDE else (top == issue and prior.area == area):
                found[index].append(prior)
    return list(zip(issues, found, strict=True))


def busiest(priors: list[PriorComplaint], *, at: datetime, span: timedelta) -> list[PriorComplaint]:
    """The others in the window of length `span` that holds `at` and the most complaints.

    Of the windows starting at a complaint up to `at` (and reaching it), or at `at`, the first
    with the most; one pass, since a later start never ends earlier (two pointers)."""
    ordered = sorted(priors, key=_RECEIVED)
    times = [p.received_at for p in ordered]
    after = bisect_left(times, at)
    best = (after, bisect_right(times, at + span))  # the window that starts at `at`
    end = 0
    for start in range(bisect_left(times, at - span, 0, after), after):
        limit = times[start] + span
        while end < len(times) and times[end] <= limit:
            end += 1
        if end - start > best[1] - best[0]:
            best = (start, end)
    return ordered[best[0] : best[1]]
