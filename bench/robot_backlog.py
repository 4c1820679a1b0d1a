"""A storm of P1s to the leadership robot, and the rate limiter's memory, this tree against a
git revision (`--against REF`): what ADR 0043 changed, without Kafka or a database.

- **storm**: `--p1s` P1 classifications in batches of 100 to a notifier on the in-memory adapters
  and a fake clock, with the telecom pack's leadership DingTalk robot (20 a minute) and the
  desk webhook; then the fake clock steps to each next due time and the dispatcher runs, until
  nothing waits. Printed: robot messages, dispatcher rounds that sent something, when the last
  P1 reached the robot (fake-clock seconds after the storm), and the CPU of it all.
- **memory**: `--rate` acknowledgements a second, each to its own phone (0.1 SMS a minute per
  phone), through the planner for `--minutes` of fake time; printed each fake minute: buckets
  held and the memory `tracemalloc` traces to the planner (the phone strings included).

Each side runs in its own process, `REF`'s tree (`git archive`) first on the path.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tarfile
import tempfile
import time
import tracemalloc
from datetime import timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("services/notifier/src", "shared/src", "libs/servicekit/src", ".")


async def storm(p1s: int) -> None:
    """The storm, printed as one line."""
    from contracts import Kind, Severity
    from tests.notifier.rig import FakeChannel, Rig, classified

    robot = FakeChannel("dingtalk")
    rig = Rig(channels={"webhook": FakeChannel("webhook"), "dingtalk": robot})
    events = [
        classified(Kind.COMPLAINT, cid=f"CP20261124-{i:010d}", severity=Severity.P1)
        for i in range(p1s)
    ]
    started, cpu = rig.clock.now(), time.process_time()
    for at in range(0, p1s, 100):
        await rig.on_classified(*events[at : at + 100])
    rounds, robot_rounds, robot_done = 0, 0, rig.clock.now()
    while (due := await rig.log.next_due_at()) is not None:
        rig.clock.set(max(due, rig.clock.now()))
        before = len(robot.sent)
        rounds += 1 if await rig.dispatcher.run_once() else 0
        if len(robot.sent) > before:
            robot_rounds, robot_done = robot_rounds + 1, rig.clock.now()
    spent = time.process_time() - cpu
    told = {m.complaint_id for m in robot.sent if m.template == "staff_major"}
    lines = sum(m.body.count("CP20261124-") for m in robot.sent if m.template == "staff_merged")
    last = (rig.clock.now() - started).total_seconds()
    robot_last = (robot_done - started).total_seconds()
    print(
        f"storm: {p1s} P1s, robot messages {len(robot.sent)} ({len(told)} alone, {lines} lines "
        f"merged) in {robot_rounds} dispatch rounds, the last {robot_last:,.0f} s after the "
        f"storm; all dispatch rounds {rounds} (the desk webhook's too), nothing waits "
        f"{last:,.0f} s after it; CPU {spent:.2f} s"
    )


def memory(rate: int, minutes: int) -> None:
    """The limiter's memory over fake time, one line per fake minute."""
    from contracts import Audience, Severity
    from notifier.domain import Intent, Planner, Recipient
    from notifier.domain.recipients import Delivery
    from tests.notifier.rig import NOW, pack_policy

    planner = Planner(pack_policy())
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    now, n = NOW, 0
    for minute in range(1, minutes + 1):
        for _ in range(rate * 60):
            phone = f"+86139{n:08d}"
            intent = Intent(
                key=f"k{n}",
                complaint_id=f"CP{n}",
                audience=Audience.CUSTOMER,
                template="acknowledgement",
                trigger_time=now,
                severity=Severity.P4,
            )
            planner.plan(Delivery(intent.key, intent, Recipient("c", "sms", phone, "x")), now)
            now += timedelta(seconds=1 / rate)
            n += 1
        held = len(planner._limiter)
        traced = (tracemalloc.get_traced_memory()[0] - base) / 1e6
        print(f"memory: minute {minute}, buckets {held}, traced {traced:.1f} MB")


def _tree(ref: str, into: Path) -> None:
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")


def main() -> None:
    """Both sides, one after the other."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--against", default="main", help="git revision to compare with")
    parser.add_argument("--p1s", type=int, default=2000)
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--minutes", type=int, default=12)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(storm(args.p1s))
        memory(args.rate, args.minutes)
        return
    argv = ["--p1s", str(args.p1s), "--rate", str(args.rate), "--minutes", str(args.minutes)]
    with tempfile.TemporaryDirectory() as temp:
        _tree(args.against, Path(temp))
        for label, root in ((args.against, Path(temp)), ("this tree", ROOT)):
            print(f"== {label}", flush=True)
            env: dict[str, Any] = {
                **os.environ,
                "PYTHONPATH": os.pathsep.join(str(root / s) for s in SOURCES),
            }
            script = [sys.executable, str(Path(__file__).resolve()), "--child", *argv]
            subprocess.run(script, check=True, env=env, cwd=root)


if __name__ == "__main__":
    main()
