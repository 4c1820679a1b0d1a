"""The what-if replay's input: the SLA's stored cases and clock sheets as replayable facts.

Reads the declared read models `CASE_FACTS` and `CASE_SHEETS` unchecked (a document it cannot use
is counted, never a reason to stop) and streams every case through a `WhatIfReport`.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from contracts import Channel, ClockName, FlagName, Severity
from contracts.read_models import CASE_FACTS, CASE_SHEETS
from sla.domain.whatif import LEFT_OUT, CaseFacts, ClockRecord, PauseWindow
from sla.domain.whatif_report import WhatIfReport
from sla.tools.whatif_render import Replay

Document = dict[str, Any]
Progress = Callable[[str], None]

BATCH = 2000
PROGRESS_EVERY = 10_000
RUNNING = frozenset({"running"})  # also once every threshold fired: still not met
STOPPED = frozenset({"met", "cancelled"})
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


@dataclass
class StoredClocks:
    """What the clock sheet holds about one complaint: first occurrences and upgrade due times."""

    clocks: dict[ClockName, ClockRecord] = field(default_factory=dict)
    upgrades: dict[Severity, datetime] = field(default_factory=dict)


def clock_record(doc: Document) -> ClockRecord | None:
    """One clock's stored state; None when it stopped at an unknown time (cannot be judged)."""
    status, due = doc.get("status"), utc(doc.get("due_at"))
    if status in RUNNING:
        return ClockRecord(due_at=due, paused=bool(doc.get("paused")))
    if status == "paused":
        return ClockRecord(due_at=due, paused=True)
    stopped = utc(doc.get("stopped_at"))
    if status in STOPPED and stopped is not None:
        return ClockRecord(due_at=due, stopped_at=stopped, met=status == "met")
    return None


async def first_occurrences(cases: AsyncIterable[Document]) -> AsyncIterator[Document]:
    """One row per first occurrence of a clock (or an upgrade: no clock) of the clock sheets."""
    async for case in cases:
        for entry in case.get("clocks") or ():
            if entry.get("occurrence", 1) != 1:
                continue
            yield {
                "_id": f"{case['_id']}:{entry.get('key')}",
                "complaint_id": case["_id"],
                "clock": entry.get("clock"),
                "status": entry.get("status"),
                "due_at": entry.get("due_at"),
                "stopped_at": entry.get("stopped_at"),
                "paused": entry.get("pause_base") is not None,
            }


def file_deadline(index: dict[str, StoredClocks], doc: Document) -> None:
    """File one first-occurrence row under its complaint."""
    stored = index.setdefault(str(doc["complaint_id"]), StoredClocks())
    if doc.get("clock") is None:  # "<complaint>:upgrade:<P>"
        stored.upgrades[Severity(str(doc["_id"]).rsplit(":", 1)[-1])] = _required(doc["due_at"])
        return
    clock = ClockName(str(doc["clock"]))
    record = clock_record(doc)
    if clock not in LEFT_OUT and record is not None:
        stored.clocks[clock] = record


def case_facts(doc: Document, stored: StoredClocks | None) -> CaseFacts | None:
    """The replay's view of one `cases` document; None when it has no clocks (never received)."""
    received = utc(doc.get("received_at"))
    if received is None:
        return None
    stored = stored or StoredClocks()
    resolution = stored.clocks.get(ClockName.RESOLUTION)
    ends = [
        moment
        for moment in (
            resolution.stopped_at if resolution else None,
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
        clocks=stored.clocks,
        unresolved_until=min(ends, default=None),
        stored_upgrades=stored.upgrades,
    )


async def replay(
    cases: AsyncIterable[Document],
    deadlines: AsyncIterable[Document],
    *,
    report: WhatIfReport,
    progress: Progress | None = None,
) -> Replay:
    """Index the stored deadlines, then stream the cases through the report."""
    run = Replay(report)
    index: dict[str, StoredClocks] = {}
    async for doc in deadlines:
        run.deadlines_read += 1
        try:
            file_deadline(index, doc)
        except UNREADABLE:
            run.unreadable_deadlines += 1
    if progress:
        progress(f"{run.deadlines_read:,} stored deadlines read")
    async for doc in cases:
        try:
            facts = case_facts(doc, index.pop(str(doc.get("_id")), None))
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
        deadlines = first_occurrences(sheets)
        return await replay(cases, deadlines, report=report, progress=progress)
    finally:
        await client.close()
