"""`python -m sla.tools.deadlines`: the due time of every clock a complaint would get.

What `complaints sla deadlines` runs: the clocks as JSON on stdout, or a one-line reason on
stderr and exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from contracts import Channel, Severity
from servicekit.packfile import read_yaml
from sla.domain import (
    BusinessCalendar,
    PolicyError,
    SlaPolicy,
    Start,
    deadlines_at_receipt,
    deadlines_starting,
    target_at,
)

PROG = "complaints sla deadlines"


class DeadlinesError(ValueError):
    """A one-line reason the deadlines could not be computed (unknown pack, channel, date…)."""


def deadlines_command(
    *,
    received: str,
    severity: str,
    channel: str,
    policy_dir: Path,
    pack: str = "telecom",
    dispatched: str | None = None,
    resolved: str | None = None,
    category: str | None = None,
    complex_case: bool = False,
) -> dict[str, str]:
    """Clock → due time (ISO 8601, local offset); naive input is read as the calendar's zone.

    Clocks started at receipt always; with `dispatched` / `resolved`, the clocks the pack starts
    then (first contact, callback). Repeating clocks give their first occurrence. A clock with a
    target (an earlier promise) adds `<clock>.target`. Deadlines falling in a year whose calendar
    is provisional are named on stderr.
    """
    if not (policy_dir / pack / "sla.yaml").is_file():
        packs = sorted(p.parent.name for p in policy_dir.glob("*/sla.yaml"))
        raise DeadlinesError(f"unknown pack {pack!r}: one of {', '.join(packs)}")
    try:
        calendar = BusinessCalendar.load(policy_dir=policy_dir, pack=pack)
        policy = SlaPolicy.load(policy_dir=policy_dir, pack=pack)
    except PolicyError as exc:
        raise DeadlinesError(f"pack {pack!r} is not valid: {exc}") from exc
    try:
        level = Severity(severity.upper())
    except ValueError:
        raise DeadlinesError(f"unknown severity {severity!r}: one of P1, P2, P3, P4") from None
    try:
        origin = Channel(channel)
    except ValueError:
        raise DeadlinesError(
            f"unknown channel {channel!r}: one of {', '.join(c.value for c in Channel)}"
        ) from None
    known = _categories(policy_dir / pack) | {
        key for rule in policy.rules.values() for key in rule.by_category
    }
    if category is not None and category not in known:
        raise DeadlinesError(
            f"unknown category {category!r} in pack {pack!r}: one of {', '.join(sorted(known))}"
        )
    zone = ZoneInfo(calendar.timezone)
    deadlines = deadlines_at_receipt(
        received_at=_moment(received, zone, "--received"),
        severity=level,
        channel=origin,
        referral_due_at=None,
        flags=(),
        policy=policy,
        calendar=calendar,
        category=category,
        complex_case=complex_case,
    )
    later: tuple[tuple[Start, str | None, str], ...] = (
        ("dispatch", dispatched, "--dispatched"),
        ("resolution", resolved, "--resolved"),
    )
    for moment, raw, flag in later:
        if raw is not None:
            deadlines += deadlines_starting(
                moment,
                started_at=_moment(raw, zone, flag),
                severity=level,
                channel=origin,
                flags=(),
                policy=policy,
                calendar=calendar,
                category=category,
                complex_case=complex_case,
            )
    out: dict[str, str] = {}
    provisional: set[int] = set()
    for deadline in deadlines:
        out[deadline.clock.value] = calendar.local(deadline.due_at).isoformat(timespec="seconds")
        if (target := target_at(deadline, policy=policy)) is not None:
            out[f"{deadline.clock.value}.target"] = calendar.local(target).isoformat(
                timespec="seconds"
            )
        years = range(deadline.started_at.year, calendar.local(deadline.due_at).year + 1)
        provisional |= set(years) & calendar.provisional_years
    if provisional:
        listed = ", ".join(map(str, sorted(provisional)))
        sys.stderr.write(
            f"note: deadlines in {listed} use a provisional calendar (statutory holidays only, no "
            "State Council notice yet): they may move when it is published\n"
        )
    return out


def _moment(raw: str, zone: ZoneInfo, flag: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise DeadlinesError(f"{flag} {raw!r} is not an ISO 8601 date and time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _categories(pack_dir: Path) -> set[str]:
    """The category paths (`billing`, `billing/overcharge`) of the pack's classifier taxonomy, read
    with the packs' one safe reader (size-bounded, plain YAML types only)."""
    path = pack_dir / "classifier.yaml"
    if not path.is_file():
        return set()
    data = read_yaml(path, DeadlinesError)
    taxonomy = data.get("taxonomy") if isinstance(data, dict) else None
    if not isinstance(taxonomy, dict):
        return set()
    out: set[str] = set()
    for code, entry in taxonomy.items():
        out.add(str(code))
        subs = entry.get("subcategories") if isinstance(entry, dict) else None
        out.update(f"{code}/{sub}" for sub in subs or {})
    return out


def main(argv: list[str] | None = None) -> int:
    """The clocks for the complaint described on the command line, as JSON on stdout."""
    args = _parser().parse_args(argv)
    try:
        result = deadlines_command(
            received=args.received,
            severity=args.severity,
            channel=args.channel,
            policy_dir=args.policy_dir,
            pack=args.pack,
            dispatched=args.dispatched,
            resolved=args.resolved,
            category=args.category,
            complex_case=args.complex,
        )
    except DeadlinesError as exc:
        sys.stderr.write(f"{PROG}: {exc}\n")
        return 2
    sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument("--policy-dir", type=Path, required=True)
    parser.add_argument("--pack", default="telecom")
    parser.add_argument("--received", required=True)
    parser.add_argument("--severity", required=True)
    parser.add_argument("--channel", required=True)
    parser.add_argument("--dispatched")
    parser.add_argument("--resolved")
    parser.add_argument("--category")
    parser.add_argument("--complex", action="store_true")
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
