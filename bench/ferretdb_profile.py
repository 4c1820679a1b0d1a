"""Where the local FerretDB's CPU goes, by command shape, while something else loads it.

The local build (docs/adr/0004, "where the server's CPU goes") runs every command under a CPU
profile label naming its shape — command, collection and filter fields, e.g.
`update cases _id,version` — and counts commands per shape in expvar. With the stack started under
`COMPLAINTS_FERRETDB_DEBUG=127.0.0.1:6060` (Go's /debug handler), this takes one CPU profile of
`--seconds`, reads the counts before and after, and prints per shape: commands, CPU seconds, CPU
milliseconds per command and share of the server's CPU:

    python bench/ferretdb_profile.py --seconds 60   # in the stack's namespace, during a bench

CPU seconds are robust on a shared machine (time on a core, not wall time); the share of
`(unlabelled)` is the server's own work outside commands: the Go collector, the WAL checkpointer,
connection handling.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

_TAG_LINE = re.compile(r"^\s*([\d.]+)(ms|s|us|µs|m|h)\s+\(\s*[\d.]+%\):\s(.*)$")
_UNIT = {"us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def counts(debug: str) -> dict[str, int]:
    """Commands per shape since the server started."""
    with urllib.request.urlopen(f"http://{debug}/debug/vars", timeout=30) as reply:
        return {k: int(v) for k, v in json.load(reply).get("local_commands", {}).items()}


def cpu_by_shape(profile: Path) -> dict[str, float]:
    """CPU seconds per `shape` label of a profile (`go tool pprof -tags`)."""
    listed = subprocess.run(
        ["go", "tool", "pprof", "-tags", str(profile)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    out: dict[str, float] = {}
    in_shape = False
    for line in listed.splitlines():
        if line.strip().startswith("shape:"):
            in_shape = True
            continue
        if in_shape and (match := _TAG_LINE.match(line)):
            value, unit, shape = match.groups()
            out[shape.strip() or "(unlabelled)"] = float(value) * _UNIT[unit]
        elif in_shape and line.strip() and ":" in line and not line.startswith(" "):
            break
    return out


def total_cpu(profile: Path) -> float:
    """All CPU seconds sampled in a profile."""
    head = subprocess.run(
        ["go", "tool", "pprof", "-top", "-nodecount=1", str(profile)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"Total samples = ([\d.]+)(ms|s|us|µs|m|h)", head)
    return float(match.group(1)) * _UNIT[match.group(2)] if match else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--debug", default=os.environ.get("COMPLAINTS_FERRETDB_DEBUG", ""))
    parser.add_argument("--top", type=int, default=25, help="shapes listed")
    parser.add_argument("--keep", type=Path, default=None, help="also save the profile here")
    args = parser.parse_args()
    if not args.debug:
        sys.exit("no debug address: start the stack with COMPLAINTS_FERRETDB_DEBUG=host:port")
    before = counts(args.debug)
    url = f"http://{args.debug}/debug/pprof/profile?seconds={args.seconds}"
    with urllib.request.urlopen(url, timeout=args.seconds + 60) as reply:
        data = reply.read()
    after = counts(args.debug)
    with tempfile.TemporaryDirectory() as tmp:
        profile = args.keep or Path(tmp) / "cpu.pb.gz"
        profile.write_bytes(data)
        cpu = cpu_by_shape(profile)
        total = total_cpu(profile)
    done = {shape: after.get(shape, 0) - before.get(shape, 0) for shape in after}
    rows = sorted(set(cpu) | {s for s, n in done.items() if n}, key=lambda s: -cpu.get(s, 0.0))
    print(f"ferretdb: {total:.2f} CPU s in {args.seconds} s, {sum(done.values()):,} commands")
    print(f"{'command shape':<58} {'commands':>9} {'CPU s':>7} {'ms/cmd':>7} {'share':>6}")
    for shape in rows[: args.top]:
        n, used = done.get(shape, 0), cpu.get(shape, 0.0)
        per = f"{used / n * 1000:7.2f}" if n else "      -"
        share = used / total * 100 if total else 0.0
        print(f"{shape[:58]:<58} {n:>9,} {used:>7.2f} {per} {share:>5.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
