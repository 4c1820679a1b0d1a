"""CPU per complaint of the SLA's case start (`StartClocks.case_of`: the clock sheet, its deadline
arithmetic on the business calendar, the `set` event), this tree against a git revision.

No Kafka, no database: `--count` classified complaints (severities P1–P4, channels in turn,
receipts spread over a week so nights, weekends and working hours all occur) are turned into
cases by the service's own `StartClocks.case_of`; the first 200 warm the caches. Each side runs
in its own process (`REF`'s `services/sla/src` extracted with `git archive` goes first on the
path), alternately, `--rounds` times; CPU seconds from `time.process_time`. On a shared machine
the ratio of medians is the figure to trust. Both sides must build the same documents: the
child prints a digest of every case document, and the sides are compared.

    python bench/sla_case_cpu.py --against main
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from handler_cpu import extract  # bench/, beside this script

ROOT = Path(__file__).resolve().parent.parent


def _side(source: Path | None, count: int) -> tuple[float, str]:
    """Microseconds of CPU per complaint and the documents' digest, from a child process."""
    env = dict(os.environ)
    paths = [str(ROOT / "bench"), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join([str(source), *paths] if source else paths)
    command = [sys.executable, __file__, "--child", "--count", str(count)]
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    return float(result["us"]), str(result["digest"])


def _child(count: int) -> None:
    """Build `count` cases and print `{"us": …, "digest": …}`."""
    from sla_backlog import classified
    from sla_scheduler import starter

    from contracts import Channel, Severity
    from sla.adapters.case_documents import case_document

    class _Db(dict[str, None]):
        def __missing__(self, key: str) -> None:
            return None

    start = starter(_Db())
    severities = list(Severity)
    channels = [Channel.HOTLINE, Channel.APP, Channel.WEB, Channel.WECHAT, Channel.REGULATOR]
    first = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)
    step = timedelta(days=7) / count
    inputs = []
    for i in range(count):
        data = classified(i, first + step * i, severities[i % 4], "CU")
        inputs.append(data.model_copy(update={"channel": channels[i % len(channels)]}))
    digest = hashlib.sha256()
    for data in inputs[:200]:  # warm the calendar's and the policy's caches
        start.case_of(data)
    started = time.process_time()
    records = [start.case_of(data) for data in inputs]
    spent = time.process_time() - started
    for record in records:
        doc = case_document(record)
        # The log's entry and event times and ids follow the wall clock: only the events' data
        log = [json.loads(e["x"]) for e in doc["log"]]
        doc["log"] = [[event["data"] for event in entry["events"]] for entry in log]
        digest.update(repr(sorted(doc.items())).encode())
    print(json.dumps({"us": spent * 1e6 / count, "digest": digest.hexdigest()}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--against", default="main", help="git revision to compare with")
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.count)
        return 0
    with tempfile.TemporaryDirectory(prefix="sla-case-cpu-") as tmp:
        theirs_src = extract(args.against, "sla", Path(tmp))
        ours: list[float] = []
        theirs: list[float] = []
        digests: set[tuple[str, str]] = set()
        for _ in range(args.rounds):
            (t_us, t_digest), (o_us, o_digest) = (
                _side(theirs_src, args.count),
                _side(None, args.count),
            )
            theirs.append(t_us)
            ours.append(o_us)
            digests.add((t_digest, o_digest))
        same = all(t == o for t, o in digests)
        print(
            f"load average {os.getloadavg()[0]:.2f}; {args.count} complaints, {args.rounds} rounds"
        )
        print(
            f"{args.against}: case_of {statistics.median(theirs):.0f} µs per complaint "
            f"({', '.join(f'{v:.0f}' for v in theirs)})"
        )
        print(
            f"this tree: case_of {statistics.median(ours):.0f} µs per complaint "
            f"({', '.join(f'{v:.0f}' for v in ours)})"
        )
        print(
            f"ratio {statistics.median(ours) / statistics.median(theirs):.2f}; "
            f"same documents: {same}"
        )
        return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
