"""`python -m sla.tools.simulate`: stored complaints replayed under another SLA policy or calendar.

What `complaints sla simulate` runs. Judges every stored complaint under the baseline pack and the
candidate afresh and reports what would change: breaches, escalations, severity upgrades and the
timely-handling rate per clock. The MongoDB URL comes in `SLA_SIMULATE_MONGO_URL` (a command line
is visible to every user of the machine).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sla.domain import BusinessCalendar, PolicyError, SlaPolicy
from sla.domain.packfile import calendar_dir
from sla.domain.whatif import Rules
from sla.domain.whatif_report import WhatIfReport
from sla.tools.whatif_render import as_json, render
from sla.tools.whatif_replay import replay_store

PROG = "complaints sla simulate"
MONGO_URL = "SLA_SIMULATE_MONGO_URL"


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
    database: str
    baseline: str = "telecom"
    calendar_dir: Path | None = None
    now: str | None = None
    as_json: bool = False


def _progress(text: str) -> None:
    sys.stderr.write(f"[simulate] {text}\n")
    sys.stderr.flush()


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


def simulate_command(options: SimulateOptions, *, mongo_url: str) -> int:
    """Run the what-if and print it; 2 on a bad pack or an unreachable database."""
    from pymongo.errors import PyMongoError

    try:
        run = asyncio.run(
            replay_store(
                mongo_url=mongo_url,
                database=options.database,
                report=prepare(options),
                progress=_progress,
            )
        )
    except (PolicyError, ValueError) as exc:
        sys.stderr.write(f"{PROG}: {exc}\n")
        return 2
    except PyMongoError as exc:
        sys.stderr.write(f"{PROG}: cannot read MongoDB ({type(exc).__name__})\n")
        return 2
    if options.as_json:
        sys.stdout.write(json.dumps(as_json(run), ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(render(run) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    """The what-if of the command line on the database in `SLA_SIMULATE_MONGO_URL`."""
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument("--policy", required=True)
    parser.add_argument("--baseline", default="telecom")
    parser.add_argument("--policy-dir", type=Path, required=True)
    parser.add_argument("--calendar-dir", type=Path)
    parser.add_argument("--database", required=True)
    parser.add_argument("--now")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    mongo_url = os.environ.get(MONGO_URL)
    if not mongo_url:
        sys.stderr.write(f"{PROG}: no MongoDB URL (set {MONGO_URL})\n")
        return 2
    options = SimulateOptions(
        policy=args.policy,
        policy_dir=args.policy_dir,
        database=args.database,
        baseline=args.baseline,
        calendar_dir=args.calendar_dir,
        now=args.now,
        as_json=args.json,
    )
    return simulate_command(options, mongo_url=mongo_url)


if __name__ == "__main__":
    raise SystemExit(main())
