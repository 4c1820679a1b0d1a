"""CPU per complaint of the notifier's and the classifier service's own handlers, this tree
against a git revision: `--against REF`.

No Kafka, no database: each handler runs over the in-memory adapters with its real decoding
(records as bytes through `servicekit.bodies.deliver`), its real rendering, JSON bodies and
HMAC signatures (the notifier's channels post to a stub HTTP client that answers 200), and the
events it publishes encoded as `servicekit.kafka.encode` does. What is measured is the
service's own Python per complaint, not aiokafka's, pymongo's or the event loop's.

Each side runs in its own process (`REF`'s `services/<service>/src` extracted with
`git archive` goes first on the path), one after another, `--rounds` times; CPU seconds from
`time.process_time`. On a shared machine the ratio of medians is the figure to trust.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("notifier", "classifier")


def extract(ref: str, service: str, into: Path) -> Path:
    """`services/<service>/src` of `ref` under `into`."""
    package = f"services/{service}/src"
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, package], capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / package


def _side(service: str, source: Path | None, count: int, batch: int) -> float:
    """Milliseconds of CPU per complaint, measured in a child process."""
    env = dict(os.environ)
    if source is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(source), str(ROOT), env.get("PYTHONPATH", "")])
    else:
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    command = [sys.executable, __file__, "--child", service, "--count", str(count)]
    command += ["--batch", str(batch)]
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    return float(json.loads(out.strip().splitlines()[-1])["ms"])


def _child(service: str, count: int, batch: int) -> None:
    """Run one side and print `{"ms": …}`."""
    if service == "notifier":
        from handler_cpu_notifier import run
    else:
        from handler_cpu_classifier import run
    seconds: float = asyncio.run(run(count, batch, time.process_time))
    print(json.dumps({"ms": seconds * 1000 / count}))


def main(argv: list[str] | None = None) -> int:
    """Print each side's CPU per complaint and their ratio."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--against", default="main", help="git revision to compare with")
    parser.add_argument("--service", choices=SERVICES, action="append")
    parser.add_argument("--count", type=int, default=2000, help="complaints per side and round")
    parser.add_argument("--batch", type=int, default=100, help="records per handler call")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", choices=SERVICES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        _child(args.child, args.count, args.batch)
        return 0
    for service in args.service or SERVICES:
        with tempfile.TemporaryDirectory() as folder:
            old = extract(args.against, service, Path(folder))
            figures: dict[str, list[float]] = {args.against: [], "tree": []}
            for _ in range(args.rounds):
                figures[args.against].append(_side(service, old, args.count, args.batch))
                figures["tree"].append(_side(service, None, args.count, args.batch))
        before, after = (statistics.median(figures[k]) for k in (args.against, "tree"))
        rows: Any = {k: ", ".join(f"{v:.3f}" for v in vs) for k, vs in figures.items()}
        print(
            f"{service}: {args.against} {before:.3f} ms [{rows[args.against]}], "
            f"tree {after:.3f} ms [{rows['tree']}] CPU per complaint; ratio {before / after:.2f}x",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
