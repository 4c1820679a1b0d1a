"""The local broker's requests per complaint: its own counters read before and after a run.

    ip netns exec <yours> .venv/bin/python bench/kafka_requests.py              # the totals now
    ip netns exec <yours> .venv/bin/python bench/kafka_requests.py --per 3000 -- \\
        .venv/bin/python bench/pipeline.py --count 3000 --seconds 0 --relay 2000

`snapshot()` runs BrokerRequests.java (Java's single-file launcher, attached to the broker of
this checkout's stack: run it in the stack's network namespace). With a command after `--`, the
difference over that command is printed per API, divided by `--per` (e.g. the complaints the
command sent). The pipeline bench prints the same for its throughput phase (`report`).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy" / "local"))
from complaints_stack.supervise import alive  # noqa: E402

SOURCE = Path(__file__).with_name("BrokerRequests.java")
SHOWN = ("Produce", "Fetch", "OffsetCommit", "Heartbeat", "Metadata", "ListOffsets", "OffsetFetch")


def snapshot() -> dict[str, int]:
    """The broker's counters since it started (`requests API` and `topics NAME` keys); empty
    when the broker is not this checkout's or the JVM cannot be attached to."""
    pid = alive("kafka")
    java = shutil.which("java")
    if pid is None or java is None:
        return {}
    done = subprocess.run(
        [java, str(SOURCE), str(pid)], capture_output=True, text=True, timeout=120, check=False
    )
    counts: dict[str, int] = {}
    for line in done.stdout.splitlines():
        kind, name, count = line.split()
        counts[f"{kind} {name}"] = int(count)
    return counts


_THREAD = re.compile(r'^"(?P<name>[^"]+)".*?\scpu=(?P<ms>[\d.]+)ms', re.MULTILINE)


def threads(pid: int | None = None) -> dict[str, float]:
    """CPU seconds of the broker's threads so far (JVM and Java threads, `jcmd Thread.print`),
    by thread name with its numbers taken out (the eight request handlers are one entry)."""
    pid = pid if pid is not None else alive("kafka")
    jcmd = shutil.which("jcmd")
    if pid is None or jcmd is None:
        return {}
    done = subprocess.run(
        [jcmd, str(pid), "Thread.print"], capture_output=True, text=True, timeout=60, check=False
    )
    used: dict[str, float] = {}
    for found in _THREAD.finditer(done.stdout):
        kind = re.sub(r"[-#]?\d+", "", found["name"]).removeprefix("data-plane-kafka-")
        used[kind] = used.get(kind, 0.0) + float(found["ms"]) / 1000
    return used


def thread_report(before: Mapping[str, float], after: Mapping[str, float], per: int) -> str:
    """The broker's CPU per unit by thread kind, largest first (ended threads not counted)."""
    delta = {name: used - before.get(name, 0.0) for name, used in after.items()}
    total = sum(delta.values())
    top = sorted(delta.items(), key=lambda item: -item[1])[:8]
    return f"kafka CPU by thread, ms per complaint: total {total / per * 1000:.2f}; " + ", ".join(
        f"{name} {used / per * 1000:.2f}" for name, used in top
    )


def report(before: Mapping[str, int], after: Mapping[str, int], per: int) -> str:
    """One line: the requests the broker served in between, per unit (e.g. per complaint)."""
    if not before or not after:
        return "kafka requests: broker counters not readable"
    delta = {key: after.get(key, 0) - before.get(key, 0) for key in after}
    apis = {  # FetchConsumer and FetchFollower are Fetch requests counted again by kind
        key.split()[1]: value
        for key, value in delta.items()
        if key.startswith("requests ")
        and key not in ("requests FetchConsumer", "requests FetchFollower")
    }
    shown = [f"{api} {apis.get(api, 0) / per:.3f}" for api in SHOWN]
    others = sum(value for api, value in apis.items() if api not in SHOWN)
    out_kb = delta.get("topics BytesOutPerSec", 0) / per / 1000
    in_kb = delta.get("topics BytesInPerSec", 0) / per / 1000
    return (
        f"kafka requests per complaint: {', '.join(shown)}, other {others / per:.3f}; "
        f"all {sum(apis.values()) / per:.2f}; "
        f"records in {delta.get('topics MessagesInPerSec', 0) / per:.2f}, "
        f"bytes in {in_kb:.2f} kB, out {out_kb:.2f} kB"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--per", type=int, default=1, help="divide the differences by this")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- a command to run between")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    before, cpu = snapshot(), threads()
    if not command:
        for key, value in before.items():
            print(key, value)
        return 0 if before else 1
    code = subprocess.call(command)
    print(report(before, snapshot(), max(1, args.per)))
    print(thread_report(cpu, threads(), max(1, args.per)))
    return code


if __name__ == "__main__":
    raise SystemExit(main())
