"""The `complaints` command."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from complaints_cli.sla_parser import add_sla_parser

REPO = Path(__file__).resolve().parents[3]


def _stack(args: argparse.Namespace) -> int:
    return subprocess.call(
        [sys.executable, str(REPO / "deploy" / "local" / "stack.py"), args.action]
    )


def _run(args: argparse.Namespace, *, label: str) -> int:
    import time

    from complaints_cli.runner import RunOptions, run
    from complaints_cli.summary import render

    staff = None
    if label == "demo" and not args.no_staff:
        from complaints_cli.staff import StaffDemo

        staff = StaffDemo.for_pack(REPO / "policies")
    started = time.monotonic()
    counts = asyncio.run(
        run(
            RunOptions(
                count=args.count, timeout=args.timeout, label=label, progress=not args.quiet
            ),
            staff=staff,
        )
    )
    if label == "demo":
        print(render(counts))
    if staff:
        print(staff.summary)
    if label == "demo":
        from complaints_cli.demo_end import Ending, closing_table, write_report
        from complaints_cli.pipeline import StackConfig

        stack = StackConfig(database="complaints_demo")
        error = write_report(args.report, database=stack.database, mongo_url=stack.mongo)
        ending = Ending(counts, time.monotonic() - started, args.report, error)
        print(closing_table(ending, staff))
    print(counts.line("e2e" if label == "e2e" else "demo"))
    return 0 if counts.lost == 0 and counts.duplicated == 0 else 1


def _service_tool(module: str, *args: str) -> int:
    """A service's own offline tool (`python -m <module>`), on this stdin and stdout: the CLI
    runs the services' code as processes and imports none of it (ADR 0014)."""
    return subprocess.call([sys.executable, "-m", module, *args])


def _intake_validate(_: argparse.Namespace) -> int:
    return _service_tool("intake.offline")


def _export_corrections(args: argparse.Namespace) -> int:
    from complaints_cli.pipeline import StackConfig

    mongo = args.mongo_url or StackConfig(database=args.database).mongo
    out = ["--out", str(args.out)] if args.out else []
    env = {**os.environ, "CLASSIFIER_EXPORT_MONGO_URL": mongo}
    module = "classifier.corrections_export"
    return subprocess.call(
        [sys.executable, "-m", module, "--database", args.database, *out], env=env
    )


def _classify(args: argparse.Namespace) -> int:
    return _service_tool(
        "classifier.offline", "--policy-dir", str(args.policy_dir), "--pack", args.pack
    )


def _report(args: argparse.Namespace) -> int:
    from complaints_cli.pipeline import StackConfig
    from complaints_cli.report_cmd import ReportOptions, report_command

    mongo = args.mongo_url or StackConfig(database=args.database).mongo
    return report_command(ReportOptions(out=args.out, database=args.database, mongo_url=mongo))


def _status(args: argparse.Namespace) -> int:
    from complaints_cli.pipeline import StackConfig
    from complaints_cli.status import StatusOptions, status_command

    stack = StackConfig(database=args.database)
    return status_command(
        StatusOptions(
            database=args.database,
            mongo_url=args.mongo_url or stack.mongo,
            kafka=args.kafka or stack.kafka,
        )
    )


def _catalogue(args: argparse.Namespace) -> int:
    from complaints_cli.catalogue import catalogue_command

    return catalogue_command(write_files=args.write)


def _add_operations(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`report`, `status` and `catalogue`: what operations and downstream teams use."""
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--database", default="complaints_demo")
    where.add_argument("--mongo-url", help="default: $COMPLAINTS_MONGO or the local stack")
    report = sub.add_parser(
        "report", parents=[where], help="write a self-contained HTML report from MongoDB"
    )
    report.add_argument("--out", type=Path, default=Path("report.html"))
    report.set_defaults(func=_report)
    status = sub.add_parser(
        "status", parents=[where], help="stage counts, consumer lag, open deadlines, health"
    )
    status.add_argument("--kafka", help="bootstrap servers (default: $COMPLAINTS_KAFKA or local)")
    status.set_defaults(func=_status)
    catalogue = sub.add_parser(
        "catalogue", help="check (or --write) the AsyncAPI documents and topic pages"
    )
    catalogue.add_argument("--write", action="store_true", help="regenerate the committed files")
    catalogue.set_defaults(func=_catalogue)


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
        if name == "demo":
            cmd.add_argument("--no-staff", action="store_true", help="no simulated staff side")
            cmd.add_argument(
                "--report", type=Path, default=Path("report.html"), help="HTML report to write"
            )
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
    classify_sub = classify.add_subparsers(dest="classify_command")
    export = classify_sub.add_parser(
        "export-corrections",
        help="staff regrades as training lines (save under data/classifier/, then `make train`)",
    )
    export.add_argument("--database", default="complaints_demo")
    export.add_argument("--mongo-url", help="default: $COMPLAINTS_MONGO or the local stack")
    export.add_argument("--out", type=Path, help="file to write (default: stdout)")
    export.set_defaults(func=_export_corrections)

    add_sla_parser(sub, policy)
    _add_operations(sub)
    from complaints_cli.case_cmd import add_case_parser
    from complaints_cli.incident_cmd import add_incident_parser
    from complaints_cli.privacy_cmd import add_privacy_parser

    add_case_parser(sub)
    add_incident_parser(sub)
    add_privacy_parser(sub)
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
