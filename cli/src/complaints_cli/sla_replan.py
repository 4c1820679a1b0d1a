"""`complaints sla replan --calendar DIR`: open deadlines planned again on a changed calendar.

A dry run (the default) reads the stored cases and prints, per open deadline whose due time moves,
the old and new due and the calendar versions. `--apply` then asks the SLA service, through the case
API as a manager, to re-plan each such case (`calendar_replanned`): the service refuses unless it
runs that calendar already, re-plans in one compare-and-set per case (the case log keeps each
moved clock's old and new due and versions), publishes the changes and moves the scheduler's index.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sla.domain import BusinessCalendar, SlaPolicy
    from sla.ports import CaseRecord

LOCAL = "%Y-%m-%d %H:%M"


class ReplanError(ValueError):
    """A one-line reason the re-plan could not run."""


@dataclass(frozen=True)
class Move:
    """One open deadline whose due time moves on the new calendar."""

    complaint_id: str
    key: str
    old_due: datetime
    new_due: datetime
    old_version: str
    new_version: str
    provisional: bool


@dataclass(frozen=True)
class ReplanOptions:
    """What `complaints sla replan` was asked."""

    calendar_dir: Path
    policy_dir: Path
    pack: str = "telecom"
    mongo_url: str | None = None
    database: str | None = None
    apply: bool = False
    api: str = "http://127.0.0.1:8003"
    api_key: str | None = None


def load_rules(options: ReplanOptions) -> tuple[SlaPolicy, BusinessCalendar]:
    """The pack's rules with its working hours over the calendar overrides in `calendar_dir`."""
    from sla.domain import BusinessCalendar, PolicyError, SlaPolicy
    from sla.domain.packfile import read_yaml_mapping, sla_file

    if not options.calendar_dir.is_dir():
        raise ReplanError(f"no calendar directory {str(options.calendar_dir)!r}")
    try:
        policy = SlaPolicy.load(policy_dir=options.policy_dir, pack=options.pack)
        path = sla_file(policy_dir=options.policy_dir, pack=options.pack)
        section = read_yaml_mapping(path).get("calendar") or {}
        calendar = BusinessCalendar.from_section(
            section, calendar_dir=options.calendar_dir, source=path
        )
    except PolicyError as exc:
        raise ReplanError(str(exc)) from exc
    return policy, calendar


def moves_of(
    records: list[CaseRecord], *, policy: SlaPolicy, calendar: BusinessCalendar
) -> list[Move]:
    """Every open deadline of these cases that the calendar moves."""
    from sla.clocks.replan import Keys, calendar_moves
    from sla.domain import TERMINAL

    found = []
    for record in records:
        if record.case.state in TERMINAL:
            continue
        keys = Keys(record.facts.category, record.case.complex_case)
        pairs = calendar_moves(
            record.clocks,
            severity=record.case.severity,
            flags=record.facts.flags,
            keys=keys,
            policy=policy,
            calendar=calendar,
        )
        found += [
            Move(
                record.complaint_id,
                old.key,
                old.due_at,
                new.due_at,
                old.calendar_version,
                new.calendar_version,
                new.provisional,
            )
            for old, new in pairs
        ]
    return found


def render(moves: list[Move], calendar: BusinessCalendar) -> str:
    """One line per moved deadline, and the versions."""
    lines = [
        f"{m.complaint_id}  {m.key:<22} {calendar.local(m.old_due):{LOCAL}} → "
        f"{calendar.local(m.new_due):{LOCAL}}{'  (provisional)' if m.provisional else ''}"
        for m in moves
    ]
    versions = sorted({m.old_version for m in moves})
    cases = len({m.complaint_id for m in moves})
    lines.append(f"{len(moves)} open deadlines of {cases} cases move")
    lines += [f"  from calendar {v}" for v in versions]
    lines.append(f"  to calendar   {calendar.version}")
    return "\n".join(lines)


async def read_records(mongo_url: str, database: str) -> list[CaseRecord]:
    """The stored cases, through the SLA service's own store (read only)."""
    from pydantic import SecretStr

    from servicekit.mongo import database as pipeline_database
    from servicekit.mongo import open_client
    from servicekit.settings import MongoSettings
    from sla.adapters.mongo_cases import MongoCaseStore
    from sla.ports import CaseFilter

    settings = MongoSettings(url=SecretStr(mongo_url), database=database)
    client = open_client(settings, app_name="complaints-sla-replan")
    try:
        store = MongoCaseStore(pipeline_database(client, settings))
        ids = [row.facts.complaint_id for row in await store.search(CaseFilter())]
        loaded = await store.load_many(ids, log=False)
        return [loaded[i] for i in ids if i in loaded]
    finally:
        await client.close()


async def apply(moves: list[Move], *, version: str, options: ReplanOptions) -> int:
    """Ask the SLA service to re-plan each case; the number of cases it re-planned."""
    from complaints_cli.case_client import CaseClient

    if not options.api_key:
        raise ReplanError("--apply needs a manager's API key (--api-key or $COMPLAINTS_API_KEY)")
    action_id = "replan-" + hashlib.sha256(version.encode()).hexdigest()[:16]
    done = 0
    async with CaseClient(base_url=options.api, api_key=options.api_key) as client:
        for cid in dict.fromkeys(m.complaint_id for m in moves):
            body = {"action": "calendar_replanned", "action_id": action_id}
            answer = await client.act_and_wait(cid, body | {"calendar_version": version})
            if answer.status == 200:
                done += 1
            else:
                reason = answer.body.get("reason", answer.status)
                sys.stderr.write(f"{cid}: not re-planned ({reason}: {answer.body.get('detail')})\n")
    return done


def replan_command(options: ReplanOptions, *, default_mongo: str, default_db: str) -> int:
    """Print the moves (dry run) or apply them; 0 when every case asked was re-planned."""
    policy, calendar = load_rules(options)
    records = asyncio.run(
        read_records(options.mongo_url or default_mongo, options.database or default_db)
    )
    moves = moves_of(records, policy=policy, calendar=calendar)
    print(render(moves, calendar))
    if not options.apply or not moves:
        if moves and not options.apply:
            print("dry run: nothing changed (--apply re-plans them)")
        return 0
    cases = len({m.complaint_id for m in moves})
    done = asyncio.run(apply(moves, version=calendar.version, options=options))
    print(f"re-planned {done} of {cases} cases")
    return 0 if done == cases else 1
