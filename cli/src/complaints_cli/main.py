"""The `complaints` command."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def _stack(args: argparse.Namespace) -> int:
    return subprocess.call(
        [sys.executable, str(REPO / "deploy" / "local" / "stack.py"), args.action]
    )


def _run(args: argparse.Namespace, *, label: str) -> int:
    from complaints_cli.runner import RunOptions, run
    from complaints_cli.summary import render

    counts = asyncio.run(
        run(
            RunOptions(count=args.count, timeout=args.timeout, label=label, progress=not args.quiet)
        )
    )
    if label == "demo":
        print(render(counts))
    print(counts.line("e2e" if label == "e2e" else "demo"))
    return 0 if counts.lost == 0 and counts.duplicated == 0 else 1


def _intake_validate(_: argparse.Namespace) -> int:
    from complaints_cli.offline import validate_lines

    for out in validate_lines(sys.stdin.buffer):
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    return 0


def _classify(args: argparse.Namespace) -> int:
    from complaints_cli.offline import classify_lines

    for out in classify_lines(sys.stdin.buffer, policy_dir=args.policy_dir, pack=args.pack):
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    return 0


def _sla_deadlines(args: argparse.Namespace) -> int:
    from complaints_cli.sla_cmd import deadlines_command

    result = deadlines_command(
        received=args.received,
        severity=args.severity,
        channel=args.channel,
        policy_dir=args.policy_dir,
        pack=args.pack,
    )
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


def _sla_simulate(args: argparse.Namespace) -> int:
    from complaints_cli.simulate import SimulateOptions, simulate_command

    return simulate_command(
        SimulateOptions(
            policy=args.policy,
            baseline=args.baseline,
            policy_dir=args.policy_dir,
            calendar_dir=args.calendar_dir,
            mongo_url=args.mongo_url,
            database=args.database,
            now=args.now,
            as_json=args.json,
        )
    )


def parser() -> argparse.ArgumentParser:
    """The command-line grammar."""
    root = argparse.ArgumentParser(prog="complaints", description=__doc__)
    sub = root.add_subparsers(dest="command", required=True)

    stack = sub.add_parser("stack", help="local Kafka + FerretDB without Docker")
    stack.add_argument("action", choices=["install", "up", "down", "status", "reset"])
    stack.set_defaults(func=_stack)

    for name, label, text in (
        ("demo", "demo", "run the pipeline on the demo workload"),
        ("e2e", "e2e", "end-to-end check on the real local stack"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--count", type=int, default=240)
        cmd.add_argument("--timeout", type=float, default=240.0)
        cmd.add_argument("--quiet", action="store_true")
        cmd.set_defaults(func=lambda a, label=label: _run(a, label=label))

    policy = argparse.ArgumentParser(add_help=False)
    policy.add_argument("--policy-dir", type=Path, default=REPO / "policies")
    policy.add_argument("--pack", default="telecom")

    intake = sub.add_parser("intake", help="intake tools")
    intake_sub = intake.add_subparsers(dest="intake_command", required=True)
    validate = intake_sub.add_parser("validate", help="validate raw messages, one per stdin line")
    validate.set_defaults(func=_intake_validate)

    classify = sub.add_parser(
        "classify", parents=[policy], help="classify JSON lines from stdin (no servers)"
    )
    classify.set_defaults(func=_classify)

    sla = sub.add_parser("sla", help="SLA tools")
    sla_sub = sla.add_subparsers(dest="sla_command", required=True)
    deadlines = sla_sub.add_parser(
        "deadlines", parents=[policy], help="due time of each clock for a complaint received now"
    )
    deadlines.add_argument("--received", required=True)
    deadlines.add_argument("--severity", required=True, choices=["P1", "P2", "P3", "P4"])
    deadlines.add_argument("--channel", required=True)
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
    return root


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `complaints` console script."""
    signal.signal(signal.SIGTERM, _terminate)  # run clean-up (stop services) on `kill` too
    args = parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
