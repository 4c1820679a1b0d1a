"""Two FerretDB builds, one after the other, on the same case workload: the server's CPU per op.

A change to the local build (deploy/local/ferretdb: patches, dependency fixes, pragmas) is
measured here without Kafka or the services: each round starts a scratch server of each binary
in turn on an empty folder and runs `bench/doc_shape.py`'s case workload on it (cases as the SLA
stores them, with its case-list indexes): batched inserts, `_id $in` reads of 100, single
compare-and-sets, a projected scan. CPU is the server's own from /proc, so the other load of a
shared machine counts only through cache and core contention, which alternating the binaries
round by round spreads over both. Prints the median per binary and the ratio of the second to
the first:

    python bench/ferretdb_ab.py --binary /tmp/ferretdb-before --binary .local/bin/ferretdb
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from doc_shape import run_shape
from scratch_ferretdb import BINARY, scratch_server

PORT = 27741
WORKLOADS = ("insert", "read", "cas", "bulk", "scan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--binary", type=Path, action="append", help="twice: before, after")
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shape", default="string", help="a doc_shape.py shape (as stored)")
    args = parser.parse_args(argv)
    binaries: list[Path] = args.binary or [BINARY, BINARY]
    if len(binaries) != 2:
        sys.exit("give --binary twice (before, after)")
    runs: list[dict[str, list[float]]] = [{w: [] for w in WORKLOADS} for _ in binaries]
    for n in range(args.rounds):
        for i, binary in enumerate(binaries):
            with scratch_server(PORT, "ferretdb-ab-", binary) as (client, pid):
                got = run_shape(client, pid, args.shape, args.cases, indexes=True)
            for w in WORKLOADS:
                runs[i][w].append(got[w])
            figures = ", ".join(f"{w} {got[w]:.3f}" for w in WORKLOADS)
            print(f"round {n + 1}, binary {i + 1} (load {os.getloadavg()[0]:.1f}): {figures}")
    print(f"server CPU ms per op, median of {args.rounds} rounds, {args.cases} cases:")
    print(f"{'workload':<8} {'before':>8} {'after':>8} {'after/before':>13}")
    for w in WORKLOADS:
        before, after = (statistics.median(r[w]) for r in runs)
        print(f"{w:<8} {before:8.3f} {after:8.3f} {after / before:13.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
