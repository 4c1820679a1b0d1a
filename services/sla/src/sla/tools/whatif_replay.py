"""The what-if replay's input: the SLA's stored cases and clock sheets as replayable facts.

Reads the declared read models `CASE_FACTS` and `CASE_SHEETS` unchecked (a document it cannot use
is counted, never a reason to stop) and streams every case through a `WhatIfReport`. A stored clock
is the read model's `ClockSheetEntry` all the way into the what-if domain (no replay-only copy).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from contracts import Channel, ClockName, ClockStatus, FlagName, Severity
from contracts.read_models import CASE_FACTS, CASE_SHEETS, ClockSheetEntry, sheet_documents
from sla.domain.whatif import LEFT_OUT, CaseFacts, PauseWindow, stopped_at
from sla.domain.whatif_report import WhatIfReport
from sla.tools.whatif_render import Replay

Document = dict[str, Any]
Progress = Callable[[str], None]

BATCH = 2000
PROGRESS_EVERY = 10_000
STOPPED = frozenset({ClockStatus.MET, ClockStatus.CANCELLED})
UNREADABLE = (KeyError, ValueError, TypeError)


def utc(value: Any) -> datetime | None:
    """A stored time as an aware UTC datetime (naive values are UTC); None stays None."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _required(value: Any) -> datetime:
    moment = utc(value)
    if moment is None:
        raise ValueError("a required time is missing")
    return moment


def sheet_entry(doc: Document) -> ClockSheetEntry:
    """One stored sheet entry as the read model reads it, its times in UTC."""
    entry = ClockSheetEntry.model_validate(doc)
    return entry.model_copy(
        update={name: utc(getattr(entry, name)) for name in ("started_at", "due_at", "stopped_at")}
    )


async def first_occurrences(
    cases: AsyncIterable[Document], unreadable: Callable[[], None]
) -> AsyncIterator[tuple[str, ClockSheetEntry]]:
    """(complaint id, entry) per first occurrence of a clock (or an upgrade: no clock) of the
    clock sheets; `unreadable` counts an entry the read model cannot read."""
    async for case in cases:
        try:
            docs = sheet_documents(case.get("clocks"))
        except UNREADABLE:
            unreadable()
            continue
        for raw in docs:
            try:
                entry = sheet_entry(raw)
            except UNREADABLE:
                unreadable()
                continue
            if entry.occurrence == 1:
                yield str(case["_id"]), entry


def judged(entry: ClockSheetEntry) -> bool:
    """Whether the replay can judge this stored clock: running, or stopped at a known time."""
    if entry.status is ClockStatus.RUNNING:
        return True
    return entry.status in STOPPED and entry.stopped_at is not None


def stored_clocks(sheet: Iterable[ClockSheetEntry]) -> dict[ClockName, ClockSheetEntry]:
    """The judged first occurrences of the replayed clocks, by clock."""
    return {
        ClockName(entry.clock): entry
        for entry in sheet
        if entry.clock is not None and ClockName(entry.clock) not in LEFT_OUT and judged(entry)
    }


def stored_upgrades(sheet: Iterable[ClockSheetEntry]) -> dict[Severity, datetime]:
    """When the stored time-based upgrades (key `upgrade:<P>`) fall due."""
    return {
        Severity(entry.key.rsplit(":", 1)[-1]): _required(entry.due_at)
        for entry in sheet
        if entry.clock is None
    }


def case_facts(doc: Document, sheet: Sequence[ClockSheetEntry] = ()) -> CaseFacts | None:
    """The replay's view of one `cases` document; None when it has no clocks (never received)."""
    received = utc(doc.get("received_at"))
    if received is None:
        return None
    clocks = stored_clocks(sheet)
    resolution = clocks.get(ClockName.RESOLUTION)
    ends = [
        moment
        for moment in (
            stopped_at(resolution),
            utc(doc.get("resolved_at")),
            utc(doc.get("closed_at")),
        )
        if moment is not None
    ]
    return CaseFacts(
        complaint_id=str(doc["_id"]),
        received_at=received,
        severity=Severity(str(doc.get("severity_at_receipt") or doc.get("severity"))),
        channel=Channel(str(doc["channel"])),
        flags=tuple(FlagName(str(flag)) for flag in doc.get("flags") or ()),
        referral_due_at=utc(doc.get("referral_due_at")),
        pauses=tuple(
            PauseWindow(_required(p["paused_at"]), _required(p["credited_until"]))
            for p in doc.get("pauses") or ()
        ),
        paused_since=utc(doc.get("paused_at")),
        clocks=clocks,
        unresolved_until=min(ends, default=None),
        stored_upgrades=stored_upgrades(sheet),
    )


async def replay(
    cases: AsyncIterable[Document],
    sheets: AsyncIterable[Document],
    *,
    report: WhatIfReport,
    progress: Progress | None = None,
) -> Replay:
    """Index the stored sheets' first occurrences, then stream the cases through the report."""
    run = Replay(report)
    index: dict[str, list[ClockSheetEntry]] = {}

    def unreadable() -> None:
        run.deadlines_read += 1
        run.unreadable_deadlines += 1

    async for complaint_id, entry in first_occurrences(sheets, unreadable):
        run.deadlines_read += 1
        index.setdefault(complaint_id, []).append(entry)
    if progress:
        progress(f"{run.deadlines_read:,} stored deadlines read")
    async for doc in cases:
        try:
            facts = case_facts(doc, index.pop(str(doc.get("_id")), []))
        except UNREADABLE:
            run.unreadable_cases += 1
            continue
        if facts is None:
            run.without_clocks += 1
            continue
        if facts.received_at > report.now:
            run.received_later += 1
            continue
        report.replay(facts)
        if progress and report.cases % PROGRESS_EVERY == 0:
            progress(f"{report.cases:,} complaints replayed")
    return run


async def replay_store(
    *, mongo_url: str, database: str, report: WhatIfReport, progress: Progress | None
) -> Replay:
    """Stream both collections from MongoDB (read to the end: no limit, no cursor left open)."""
    from pydantic import SecretStr

    from servicekit.mongo import database as pipeline_database
    from servicekit.mongo import open_client
    from servicekit.read_models import stream
    from servicekit.settings import MongoSettings

    settings = MongoSettings(url=SecretStr(mongo_url), database=database)
    client = open_client(settings, app_name="sla-simulate")
    try:
        db = pipeline_database(client, settings)
        # Unchecked: the replay counts the documents it cannot read instead of stopping.
        sheets = stream(db, CASE_SHEETS, batch_size=BATCH, check=False)
        cases = stream(db, CASE_FACTS, batch_size=BATCH, check=False)
        return await replay(cases, sheets, report=report, progress=progress)
    finally:
        await client.close()
