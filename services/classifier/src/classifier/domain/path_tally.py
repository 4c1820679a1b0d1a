"""Which category paths of a batch could hold a wide-area mass incident (ADR 0033).

The wide-area rule (`history.mass_incident`, issue `(path, WIDE)`) counts the complaints of one
whole category path, in any area, within the mass-incident span either side of a complaint. The
store keeps, per minute of receipt, how many decisions of each path and customer tier it holds —
never fewer than it holds (`TallyRow`). From those counts alone, a path whose busiest possible
window stays below both thresholds cannot raise the flag, whatever its members are, so its
members need not be read: the batch reads only the paths this module names.

Exact, not approximate: the bound only ever over-counts (a redelivered batch is counted again,
a corrected decision counts under both paths, members of closed incidents and complaints outside
the span but inside a counted minute are included), so a path it leaves out could not reach a
threshold with every member read — the findings are the same as reading them all, in any order
of decision.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from classifier.domain.decision import HistoryWindows
from contracts import CustomerTier

MINUTE = 60


@dataclass(frozen=True)
class TallyRow:
    """At least `count` stored decisions of `category` by `tier` were received in `minute`."""

    category: str
    minute: int
    """Minutes since the Unix epoch (UTC) of the receipt time."""
    tier: CustomerTier
    count: int


@dataclass(frozen=True)
class Candidate:
    """A batch complaint with a category path, as the wide-area rule sees it."""

    category: str
    received_at: datetime
    tier: CustomerTier


def minute_of(at: datetime) -> int:
    """The epoch minute of a receipt time (a naive time is UTC, as the store returns it)."""
    moment = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return int(moment.timestamp() // MINUTE)


def minutes_around(at: datetime, span: timedelta) -> range:
    """Every minute that overlaps `[at - span, at + span]`."""
    return range(minute_of(at - span), minute_of(at + span) + 1)


def minutes_for(candidates: Iterable[Candidate], span: timedelta) -> list[int]:
    """The minutes a batch's tally read must cover."""
    return sorted({m for c in candidates for m in minutes_around(c.received_at, span)})


def paths_to_read(
    rows: Iterable[TallyRow], candidates: Sequence[Candidate], windows: HistoryWindows
) -> list[str]:
    """The paths of `candidates` whose wide-area burst could reach a mass-incident threshold.

    For each candidate: the stored decisions of its path counted in the minutes around it, plus
    every batch complaint of the path (itself included), against the complaint threshold; the
    important ones among them against the important-customer threshold.
    """
    span = timedelta(minutes=windows.mass_incident_minutes)
    stored: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for row in rows:
        counts = stored[row.category][row.minute]
        counts[0] += row.count
        counts[1] += row.count if row.tier in windows.important_tiers else 0
    batch: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for c in candidates:
        batch[c.category][0] += 1
        batch[c.category][1] += c.tier in windows.important_tiers
    wanted: set[str] = set()
    for c in candidates:
        if c.category in wanted:
            continue
        by_minute = stored.get(c.category, {})
        total, important = batch[c.category]
        for minute in minutes_around(c.received_at, span):
            if minute in by_minute:
                total += by_minute[minute][0]
                important += by_minute[minute][1]
        if (
            total >= windows.mass_incident_min_complaints
            or important >= windows.mass_incident_min_important
        ):
            wanted.add(c.category)
    return sorted(wanted)
