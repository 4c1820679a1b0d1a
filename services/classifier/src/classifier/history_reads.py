"""The stored history a batch is decided against: by complainant, by place, by category path."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

from classifier.domain import Decision, HistoryWindows, PriorComplaint
from classifier.domain.path_tally import Candidate, minutes_for, paths_to_read
from classifier.ports import ClassificationStore
from contracts import NormalizedComplaint

MAX_TALLY_MINUTES = 1440
"""A batch whose complaints' windows span more minutes than this reads every path's members."""


def _top(category: str | None) -> str | None:
    return category.split("/", 1)[0] if category else None


async def stored_history(
    store: ClassificationStore,
    windows: HistoryWindows,
    items: Sequence[NormalizedComplaint],
    decisions: Sequence[Decision],
    areas: Sequence[str | None],
) -> list[PriorComplaint]:
    """Stored complaints that can be history for this batch (in receipt order): by complainant,
    by (top category, area) and, where a wide-area burst is possible, by whole category path.

    Category history only matters within one area (hot issues, mass incidents) or along one
    path in any area (wide-area incidents), so it is read per issue of the batch, whole.
    """
    if not items:
        return []
    earliest = items[0].received_at
    keys = sorted({c.complainant_key for c in items if c.complainant_key})
    issues = sorted(
        {
            (category, area)
            for decision, area in zip(decisions, areas, strict=True)
            if (category := _top(decision.category)) and area
        }
    )
    issue_window = max(
        timedelta(days=windows.hot_issue_days),
        timedelta(minutes=windows.mass_incident_minutes),
    )
    span = timedelta(minutes=windows.mass_incident_minutes)

    async def wide_area() -> list[PriorComplaint]:
        paths = await busy_paths(store, windows, items, decisions)
        return await store.by_categories(paths, since=earliest - span)

    # Three independent reads: on the way to every acknowledgement, so their waits overlap.
    mine, theirs, wide = await asyncio.gather(
        store.by_complainants(keys, since=earliest - timedelta(days=windows.repeat_days)),
        store.by_issues(issues, since=earliest - issue_window),
        wide_area(),
    )
    priors = [*mine, *theirs, *wide]
    # Members of an incident operations closed start no burst again (ADR 0018).
    closed = await store.closed_incidents(sorted({p.incident_id for p in priors if p.incident_id}))
    return [replace(p, in_closed_incident=True) if p.incident_id in closed else p for p in priors]


async def busy_paths(
    store: ClassificationStore,
    windows: HistoryWindows,
    items: Sequence[NormalizedComplaint],
    decisions: Sequence[Decision],
) -> list[str]:
    """The batch's category paths whose members the wide-area rule needs: those whose stored
    count around a complaint, with the batch's own, could reach a mass-incident threshold
    (ADR 0033). Any other path's members could raise no flag, so they are not read; a batch
    spread over more minutes than a tally read is worth reads them all."""
    candidates = [
        Candidate(d.category, c.received_at, c.complainant.tier)
        for c, d in zip(items, decisions, strict=True)
        if d.category and "/" in d.category
    ]
    paths = sorted({c.category for c in candidates})
    minutes = minutes_for(candidates, timedelta(minutes=windows.mass_incident_minutes))
    if not paths or len(minutes) > MAX_TALLY_MINUTES:
        return paths
    return paths_to_read(await store.path_tally(paths, minutes), candidates, windows)
