"""The census tally: clock counts kept by the writes that change them, not by a scan (ADR 0024).

Every clock entry of every case counts once under its (clock, severity, status, outcome). A
write that stores a case (an insert, a won compare-and-set) knows the sheet before and after, so
it adds the difference to one small document (`$inc`); the census reads that document instead of
decoding every case. The stores apply a difference only for what they know was stored: a
compare-and-set lost to another writer, or an insert of a case already stored (a redelivery),
adds nothing, so redeliveries and races leave the tally equal to a full recount.

The difference is announced before the write it counts (`pending.<token>` on the tally
document: each case, what shows its change stored, and its difference) and added afterwards by
one conditional update that also removes the announcement: added once, or not at all. A process
that dies between the case write and that update leaves the announcement behind; `heal` (the
census loop, once it is older than any live write) adds what of it was stored (ADR 0029).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from contracts import ClockStatus
from sla.clocks.sheet import ClockEntry

TALLY_ID = "clocks"
COUNTS = "n"  # the tally document's counts: `n.<clock>|<severity>|<status>|<outcome>`
CHANGES = "changes"  # how many differences were added (an operator sees it move)
PENDING = "pending"  # announced differences: `pending.<token>` → {at, parts}
INSERTED_BY = "tally_insert"  # on a case: the announcement token of the insert that stored it

Part = tuple[str, str, Mapping[str, int]]
"""(complaint id, what shows the change stored: its log entry id or the insert's token, the
difference it makes to the tally)."""

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


def new_token() -> str:
    """A fresh announcement token (a field name: hex only)."""
    return uuid.uuid4().hex


def announcement(parts: Sequence[Part], at: float) -> dict[str, Any]:
    """The stored form of an announced difference (`at`: epoch seconds, real time; documents,
    not nested arrays, which FerretDB 1.x does not store)."""
    return {"at": at, "parts": [{"c": cid, "m": mark, "d": dict(d)} for cid, mark, d in parts]}


def parts_of(stored: Mapping[str, Any]) -> list[Part]:
    """An announcement's parts back."""
    return [(p["c"], p["m"], dict(p["d"])) for p in stored.get("parts", ())]


def landed(parts: Sequence[Part], marks: Mapping[str, set[str | None]]) -> Counter[str]:
    """The summed difference of the parts whose change is stored (its mark is on the case)."""
    return summed(diff for cid, mark, diff in parts if mark in marks.get(cid, set()))


def settlement(token: str, diff: Mapping[str, int]) -> dict[str, Any]:
    """The one update adding `diff` and removing the announcement `token`."""
    update: dict[str, Any] = {"$unset": {f"{PENDING}.{token}": ""}}
    if diff:
        update |= increment(diff)
    return update
