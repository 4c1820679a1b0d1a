"""What a case start and its acknowledgement cost the SLA and the local FerretDB, per case, with
`--stored` cases already in the collection; this tree against a git revision.

No Kafka: each side (a child process, `REF`'s `services/sla/src` first on its path) gets a
database of its own on the running local FerretDB, with the case list's indexes. It stores
`--stored` cases through the SLA's own store adapter (clones of the measured ones), then measures
two steps in batches of `--batch`, as the service's lanes run them:

- **start**: `StartClocks.on_classified` (insert, tally, held receipts read, snapshots built);
- **receipts**: `RecordReceipt.on_receipts` for each case's delivered acknowledgement.

Per step it prints the SLA's CPU per case (`time.process_time` of the child, the case building
included) and the server's (FerretDB's user + system time from /proc, read before and after),
and the database commands per case. The sides alternate `--rounds` times; on a shared machine
the ratio of the medians is the figure to trust. Run it in the stack's network namespace:

    python bench/sla_receipt_write.py --against main --stored 100000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from handler_cpu import extract  # bench/, beside this script

ROOT = Path(__file__).resolve().parent.parent
STEPS = ("start", "receipts")
DATABASE = "sla_receipt_write"  # kept between runs when seeded: `--stored` is reached once


def _side(source: Path | None, args: argparse.Namespace, tag: str) -> dict[str, float]:
    env = dict(os.environ)
    paths = [str(ROOT / "bench"), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join([str(source), *paths] if source else paths)
    command = [sys.executable, __file__, "--child", "--database", DATABASE, "--tag", tag]
    command += ["--count", str(args.count), "--batch", str(args.batch)]
    command += ["--stored", str(args.stored)]
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--against", default="main", help="git revision to compare with")
    parser.add_argument("--count", type=int, default=1500, help="cases measured per round")
    parser.add_argument("--batch", type=int, default=150, help="cases per handler call")
    parser.add_argument("--stored", type=int, default=0, help="cases stored before measuring")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database", default="", help=argparse.SUPPRESS)
    parser.add_argument("--tag", default="M", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        from sla_receipt_child import measure

        print(
            json.dumps(
                asyncio.run(measure(args.database, args.tag, args.count, args.batch, args.stored))
            )
        )
        return 0
    with tempfile.TemporaryDirectory(prefix="sla-receipt-write-") as tmp:
        theirs_src = extract(args.against, "sla", Path(tmp))
        results: dict[str, list[dict[str, float]]] = {args.against: [], "this tree": []}
        for n in range(args.rounds):
            results[args.against].append(_side(theirs_src, args, f"R{n}"))
            results["this tree"].append(_side(None, args, f"N{n}"))
    print(
        f"load average {os.getloadavg()[0]:.2f}; {args.count} cases per round in batches of"
        f" {args.batch}, {args.stored:,} stored before, {args.rounds} rounds (medians)"
    )
    for side, runs in results.items():
        cells = []
        for step in STEPS:
            sla = statistics.median(r[f"{step}_sla_ms"] for r in runs)
            server = statistics.median(r[f"{step}_server_ms"] for r in runs)
            ops = statistics.median(r[f"{step}_ops"] for r in runs)
            cells.append(f"{step}: SLA {sla:.3f} ms, server {server:.3f} ms, {ops:.2f} commands")
        print(f"{side:>10}: " + "; ".join(cells) + " per case")
    return 0


if __name__ == "__main__":
    started = time.monotonic()
    code = main()
    sys.stderr.write(f"({time.monotonic() - started:.0f} s)\n")
    sys.exit(code)
