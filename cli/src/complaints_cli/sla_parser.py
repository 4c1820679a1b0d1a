"""`complaints sla deadlines | simulate | replan`: the SLA's command-line grammar and dispatch."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


DEMO_DATABASE = "complaints_demo"
"""Where `complaints demo` leaves its complaints: the default for a local what-if."""


def _tool(module: str, *args: str, env: dict[str, str] | None = None) -> int:
    """The SLA's own tool (`python -m sla.tools.<tool>`) on this stdin, stdout and stderr: the CLI
    runs the service's code as a process and imports none of it (ADR 0014)."""
    return subprocess.call([sys.executable, "-m", module, *args], env=env)


def _given(**options: str | Path | None) -> list[str]:
    """`--name value` for each option given (underscores become dashes)."""
    out: list[str] = []
    for name, value in options.items():
        if value is not None:
            out += [f"--{name.replace('_', '-')}", str(value)]
    return out


def _sla_deadlines(args: argparse.Namespace) -> int:
    given = _given(
        policy_dir=args.policy_dir,
        pack=args.pack,
        received=args.received,
        severity=args.severity,
        channel=args.channel,
        dispatched=args.dispatched,
        resolved=args.resolved,
        category=args.category,
    )
    return _tool("sla.tools.deadlines", *given, *(["--complex"] if args.complex else []))


def _sla_simulate(args: argparse.Namespace) -> int:
    from complaints_cli.pipeline import StackConfig

    mongo = args.mongo_url or StackConfig(database=DEMO_DATABASE).mongo
    given = _given(
        policy=args.policy,
        baseline=args.baseline,
        policy_dir=args.policy_dir,
        calendar_dir=args.calendar_dir,
        database=args.database or DEMO_DATABASE,
        now=args.now,
    )
    env = {**os.environ, "SLA_SIMULATE_MONGO_URL": mongo}  # not on a command line: ps shows it
    return _tool("sla.tools.simulate", *given, *(["--json"] if args.json else []), env=env)


def _sla_replan(args: argparse.Namespace) -> int:
    from complaints_cli.sla_replan import ReplanError, ReplanOptions, replan_command

    options = ReplanOptions(
        calendar_dir=args.calendar, apply=args.apply, api=args.api, api_key=args.api_key
    )
    try:
        return replan_command(options)
    except ReplanError as exc:
        print(f"complaints sla replan: {exc}", file=sys.stderr)
        return 2


def add_sla_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], policy: argparse.ArgumentParser
) -> None:
    """`complaints sla deadlines | simulate`."""
    sla = sub.add_parser("sla", help="SLA tools")
    sla_sub = sla.add_subparsers(dest="sla_command", required=True)
    deadlines = sla_sub.add_parser(
        "deadlines", parents=[policy], help="due time of each clock for a complaint received now"
    )
    deadlines.add_argument("--received", required=True)
    deadlines.add_argument("--severity", required=True, choices=["P1", "P2", "P3", "P4"])
    deadlines.add_argument("--channel", required=True)
    deadlines.add_argument("--dispatched", help="ISO time of dispatch: add the clocks started then")
    deadlines.add_argument("--resolved", help="ISO time of resolution: add the clocks started then")
    deadlines.add_argument("--category", help="category path, for clocks that depend on it")
    deadlines.add_argument(
        "--complex", action="store_true", help="the case is marked complex (bank, hospital)"
    )
    deadlines.set_defaults(func=_sla_deadlines)
    simulate = sla_sub.add_parser(
        "simulate", help="replay stored complaints under another policy pack or calendar"
    )
    simulate.add_argument("--policy", required=True, help="candidate pack: name or directory")
    simulate.add_argument("--baseline", default="telecom", help="current pack: name or directory")
    simulate.add_argument("--policy-dir", type=Path, default=REPO / "policies")
    simulate.add_argument(
        "--calendar-dir", type=Path, help="candidate's calendar overrides (default: shared ones)"
    )
    simulate.add_argument("--mongo-url", help="default: $COMPLAINTS_MONGO or the local stack")
    simulate.add_argument("--database", help="default: complaints_demo")
    simulate.add_argument("--now", help="judge as of this ISO time (default: now)")
    simulate.add_argument("--json", action="store_true", help="print JSON instead of a table")
    simulate.set_defaults(func=_sla_simulate)
    replan = sla_sub.add_parser(
        "replan",
        help="open deadlines on a changed calendar: a dry run, then --apply (a manager's key)",
    )
    replan.add_argument("--calendar", type=Path, required=True, help="calendar override directory")
    replan.add_argument("--apply", action="store_true", help="re-plan them")
    replan.add_argument(
        "--api", default=os.environ.get("COMPLAINTS_CASE_API", "http://127.0.0.1:8003")
    )
    replan.add_argument("--api-key", default=os.environ.get("COMPLAINTS_API_KEY"))
    replan.set_defaults(func=_sla_replan)
