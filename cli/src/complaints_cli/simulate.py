"""`complaints sla simulate`: stored complaints replayed under another SLA policy or calendar.

Reads the SLA service's declared read models `CASE_FACTS` and `CASE_SHEETS` (clock sheets),
judges every complaint under the baseline pack and the candidate afresh, and reports what would
change: breaches, escalations, severity upgrades and the timely-handling rate per clock.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from complaints_cli.simulate_report import Replay, as_json, render
from complaints_cli.sla_clocks import clock_rows
from contracts import Channel, ClockName, FlagName, Severity
from contracts.read_models import CASE_FACTS, CASE_SHEETS
from sla.domain import BusinessCalendar, PolicyError, SlaPolicy
from sla.domain.packfile import calendar_dir
from sla.domain.whatif import (
    LEFT_OUT,
    CaseFacts,
    ClockRecord,
    PauseWindow,
    Rules,
)
from sla.domain.whatif_report import WhatIfReport

Document = dict[str, Any]
Progress = Callable[[str], None]

DEMO_DATABASE = "complaints_demo"
"""Where `complaints demo` leaves its complaints: the default for a local what-if."""
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
    """What `deadlines` holds about one complaint: first occurrences and upgrade due times."""

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
    """The first occurrence of every clock (and upgrade) of the cases' clock sheets."""
    async for case in cases:
        for row in clock_rows(case, upgrades=True):
            if row["occurrence"] == 1:
                yield row


def file_deadline(index: dict[str, StoredClocks], doc: Document) -> None:
    """File one occurrence-1 `deadlines` document under its complaint."""
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
    client = open_client(settings, app_name="complaints-sla-simulate")
    try:
        db = pipeline_database(client, settings)
        # Unchecked: the replay counts the documents it cannot read instead of stopping.
        sheets = stream(db, CASE_SHEETS, batch_size=BATCH, check=False)
        cases = stream(db, CASE_FACTS, batch_size=BATCH, check=False)
        deadlines = first_occurrences(sheets)
        return await replay(cases, deadlines, report=report, progress=progress)
    finally:
        await client.close()


def pack_location(pack: str, policy_dir: Path) -> tuple[Path, str]:
    """A pack name under `policy_dir`, or a path to a pack directory (anything with a slash)."""
    if "/" in pack or os.sep in pack:
        where = Path(pack).expanduser().resolve()
        return where.parent, where.name
    return policy_dir, pack


def load_rules(pack: str, *, policy_dir: Path, overrides: Path) -> Rules:
    """A pack's policy and its working hours on the calendar overrides in `overrides`."""
    home, name = pack_location(pack, policy_dir)
    policy = SlaPolicy.load(policy_dir=home, pack=name)
    calendar = BusinessCalendar.from_section(dict(policy.calendar_section), calendar_dir=overrides)
    return Rules(policy=policy, calendar=calendar)


def parse_now(text: str | None, *, timezone: str) -> datetime:
    """`--now` (naive input is read in the calendar's zone), or the current time."""
    if text is None:
        return datetime.now(UTC)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(timezone))


@dataclass(frozen=True)
class SimulateOptions:
    """What `complaints sla simulate` was asked to do."""

    policy: str
    policy_dir: Path
    baseline: str = "telecom"
    calendar_dir: Path | None = None
    mongo_url: str | None = None
    database: str | None = None
    now: str | None = None
    as_json: bool = False


def _progress(text: str) -> None:
    sys.stderr.write(f"[simulate] {text}\n")
    sys.stderr.flush()


def default_mongo_url() -> str:
    """The MongoDB the other commands use (COMPLAINTS_MONGO, else the local stack)."""
    from complaints_cli.pipeline import StackConfig

    return StackConfig(database=DEMO_DATABASE).mongo


def prepare(options: SimulateOptions) -> WhatIfReport:
    """Load both rule sets and the replay time; PolicyError / ValueError on bad input."""
    shared = calendar_dir(options.policy_dir)
    if options.calendar_dir is not None and not options.calendar_dir.is_dir():
        raise ValueError(f"--calendar-dir {options.calendar_dir} is not a directory")
    baseline = load_rules(options.baseline, policy_dir=options.policy_dir, overrides=shared)
    candidate = load_rules(
        options.policy, policy_dir=options.policy_dir, overrides=options.calendar_dir or shared
    )
    now = parse_now(options.now, timezone=baseline.calendar.timezone)
    return WhatIfReport(baseline=baseline, candidate=candidate, now=now)


def simulate_command(options: SimulateOptions) -> int:
    """Run the what-if and print it; 2 on a bad pack or an unreachable database."""
    from pymongo.errors import PyMongoError

    try:
        run = asyncio.run(
            replay_store(
                mongo_url=options.mongo_url or default_mongo_url(),
                database=options.database or DEMO_DATABASE,
                report=prepare(options),
                progress=_progress,
            )
        )
    except (PolicyError, ValueError) as exc:
        sys.stderr.write(f"complaints sla simulate: {exc}\n")
        return 2
    except PyMongoError as exc:
        sys.stderr.write(f"complaints sla simulate: cannot read MongoDB ({type(exc).__name__})\n")
        return 2
    if options.as_json:
        print(json.dumps(as_json(run), ensure_ascii=False, indent=2))
    else:
        print(render(run))
    return 0
