"""Which open deadlines move on the calendar this service runs (`complaints sla replan`'s dry run).

The service answers it, not the CLI (ADR 0012): the moves are computed by the function its
`calendar_replanned` action applies, on the calendar it really runs, from its own store.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from sla.clocks.replan import Keys, calendar_moves, pause_window
from sla.domain import TERMINAL, BusinessCalendar, SlaPolicy
from sla.ports import CaseFilter, CaseRecord, CaseStore

LOAD_CHUNK = 500  # cases read at once (one `$in` look-up each)


class CalendarMove(BaseModel):
    """One open deadline whose due time moves on the service's calendar."""

    complaint_id: str
    key: str
    due_at: datetime
    new_due_at: datetime
    calendar_version: str
    new_calendar_version: str
    provisional: bool


class CalendarPreview(BaseModel):
    """The moves a `calendar_replanned` action would make, case by case."""

    calendar_version: str
    cases: int
    moves: list[CalendarMove]


def moves_of(
    record: CaseRecord, *, policy: SlaPolicy, calendar: BusinessCalendar
) -> list[CalendarMove]:
    """The open deadlines of one case that the calendar moves (none once the case ended)."""
    if record.case.state in TERMINAL:
        return []
    pairs = calendar_moves(
        record.clocks,
        severity=record.case.severity,
        flags=record.facts.flags,
        keys=Keys(record.facts.category, record.case.complex_case),
        policy=policy,
        calendar=calendar,
        pause=pause_window(record.case, policy=policy, calendar=calendar),
    )
    return [
        CalendarMove(
            complaint_id=record.complaint_id,
            key=old.key,
            due_at=calendar.local(old.due_at),
            new_due_at=calendar.local(new.due_at),
            calendar_version=old.calendar_version,
            new_calendar_version=new.calendar_version,
            provisional=new.provisional,
        )
        for old, new in pairs
    ]


async def calendar_preview(
    cases: CaseStore, *, policy: SlaPolicy, calendar: BusinessCalendar
) -> CalendarPreview:
    """Every open deadline of the stored cases that the service's calendar moves."""
    ids = [row.facts.complaint_id for row in await cases.search(CaseFilter())]
    moves: list[CalendarMove] = []
    for start in range(0, len(ids), LOAD_CHUNK):
        chunk = ids[start : start + LOAD_CHUNK]
        loaded = await cases.load_many(chunk, log=False)
        for cid in chunk:
            if (record := loaded.get(cid)) is not None:
                moves += moves_of(record, policy=policy, calendar=calendar)
    return CalendarPreview(
        calendar_version=calendar.version,
        cases=len({m.complaint_id for m in moves}),
        moves=moves,
    )
