"""`python -m sla.tools.calendar`: the working periods of a stretch of a pack's business calendar.

Prints `contracts.calendar.WorkingPeriods` as JSON: the demo's staff (`complaints demo`) pace
their steps in working hours on it without importing the SLA (ADR 0014).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta
from pathlib import Path

from contracts.calendar import WorkingPeriods
from sla.domain import BusinessCalendar, PolicyError

PROG = "sla.tools.calendar"
MAX_DAYS = 3660


def working_periods(calendar: BusinessCalendar, first_day: date, days: int) -> WorkingPeriods:
    """The calendar's periods of `days` local days from `first_day`."""
    last_day = first_day + timedelta(days=days - 1)
    periods = tuple(
        period for n in range(days) for period in calendar.periods(first_day + timedelta(days=n))
    )
    return WorkingPeriods(
        timezone=calendar.timezone,
        version=calendar.version,
        first_day=first_day,
        last_day=last_day,
        periods=periods,
    )


def main(argv: list[str] | None = None) -> int:
    """The periods asked for on stdout; 2 and a one-line reason on a bad pack or range."""
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument("--policy-dir", type=Path, required=True)
    parser.add_argument("--pack", default="telecom")
    parser.add_argument("--from", dest="first_day", type=date.fromisoformat, required=True)
    parser.add_argument("--days", type=int, required=True)
    args = parser.parse_args(argv)
    if not 1 <= args.days <= MAX_DAYS:
        sys.stderr.write(f"{PROG}: --days must be 1 to {MAX_DAYS}\n")
        return 2
    try:
        calendar = BusinessCalendar.load(policy_dir=args.policy_dir, pack=args.pack)
    except PolicyError as exc:
        sys.stderr.write(f"{PROG}: {exc}\n")
        return 2
    sys.stdout.write(working_periods(calendar, args.first_day, args.days).model_dump_json() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
