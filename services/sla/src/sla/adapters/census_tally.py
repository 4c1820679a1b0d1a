"""The census tally: clock counts kept by the writes that change them, not by a scan (ADR 0024).

Every clock entry of every case counts once under its (clock, severity, status, outcome). A
write that stores a case (an insert, a won compare-and-set) knows the sheet before and after, so
it adds the difference to one small document (`$inc`); the census reads that document instead of
decoding every case. The stores apply a difference only for what they know was stored: a
compare-and-set lost to another writer, or an insert of a case already stored (a redelivery),
adds nothing, so redeliveries and races leave the tally equal to a full recount.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from contracts import ClockStatus
from sla.clocks.sheet import ClockEntry

TALLY_ID = "clocks"
COUNTS = "n"  # the tally document's counts: `n.<clock>|<severity>|<status>|<outcome>`
CHANGES = "changes"  # how many differences were added (an operator sees it move)

CensusRow = tuple[str, str, str, str, int]


def census_keys(clocks: Sequence[ClockEntry]) -> list[tuple[str, str, str, str]]:
    """(clock, severity, status, outcome) of each clock entry."""
    keys = []
    for entry in clocks:
        if entry.status is ClockStatus.MET and entry.stopped_at is not None:
            outcome = "on_time" if entry.stopped_at <= entry.due_at else "late"
        elif entry.running and entry.breached:
            outcome = "overdue"
        elif entry.status is ClockStatus.BREACHED:
            outcome = "late"  # never met: it counts against the timely rate
        else:
            outcome = ""
        name = entry.clock.value if entry.clock else "upgrade"
        keys.append((name, entry.severity, entry.status.value, outcome))
        # Earlier occurrences folded into this one (`sla.clocks.sheet.compact`) count too.
        on_time, late, breached = entry.folded
        keys += [(name, entry.severity, "met", "on_time")] * on_time
        keys += [(name, entry.severity, "met", "late")] * late
        keys += [(name, entry.severity, "breached", "late")] * breached
    return keys


def counts_of(clocks: Sequence[ClockEntry]) -> Counter[str]:
    """The sheet's entries counted by tally key."""
    return Counter("|".join(key) for key in census_keys(clocks))


def difference(before: Sequence[ClockEntry], after: Sequence[ClockEntry]) -> Counter[str]:
    """What storing `after` in place of `before` adds to the tally (negative: takes away)."""
    out = counts_of(after)
    out.subtract(counts_of(before))
    return Counter({key: n for key, n in out.items() if n})


def summed(differences: Iterable[Mapping[str, int]]) -> Counter[str]:
    """Several differences as one (keys that cancel out dropped)."""
    out: Counter[str] = Counter()
    for diff in differences:
        out.update(diff)
    return Counter({key: n for key, n in out.items() if n})


def increment(diff: Mapping[str, int]) -> dict[str, dict[str, int]]:
    """The `$inc` update adding `diff` to the tally document."""
    return {"$inc": {**{f"{COUNTS}.{key}": n for key, n in diff.items()}, CHANGES: 1}}


def rows(counts: Mapping[str, int]) -> list[CensusRow]:
    """The tally as census rows, sorted, entries counted down to zero left out."""
    out: list[CensusRow] = []
    for key, n in sorted(counts.items()):
        if n:
            clock, severity, status, outcome = key.split("|")
            out.append((clock, severity, status, outcome, int(n)))
    return out
