"""Cases for the census tally's tests: two occurrences of a repeating clock, and every running
clock met."""

from __future__ import annotations

from dataclasses import replace

from contracts import CaseState, Channel, ClockStatus, Severity
from sla.domain import open_case
from sla.ports import CaseChange, CaseFacts, CaseRecord, LogEntry
from tests._builders.sla import RECEIVED, cid_n, clock_entry
from tests._builders.sla_actions import at


def record(n: int, severity: Severity = Severity.P4) -> CaseRecord:
    """A case with two occurrences of a repeating acknowledge clock."""
    facts = CaseFacts(cid_n(n), RECEIVED, Channel.HOTLINE, (), severity)
    first, second = clock_entry(), clock_entry("acknowledge:2")
    clocks = tuple(replace(c, severity=severity.value, repeat=True) for c in (first, second))
    return CaseRecord(facts, open_case(severity=severity), 0, clocks=clocks)


def met(stored: CaseRecord, entry_id: str, *, late: bool = False) -> CaseChange:
    """Every running clock met (after its due time if `late`)."""
    clocks = tuple(
        replace(c, status=ClockStatus.MET, stopped_at=at(5) if late else RECEIVED)
        if c.running
        else c
        for c in stored.clocks
    )
    case = replace(stored.case, state=CaseState.DISPATCHED)
    return CaseChange(case, clocks, LogEntry(entry_id, RECEIVED))
