"""The classifier against the real store as it grows: `classifier_store.py --count N`.

Decides `--count` complaints (the dev fixture's texts, one complainant each, 200 a second of
receipt time as in the bench's latency phase) through `Classification.take` in batches of
`--batch` against `MongoClassificationStore` on the local FerretDB (a database of its own,
dropped at the end), and prints, for every `--every` complaints stored, what one batch cost:

    stored  batch ms in mongo (per store method)  client CPU ms/complaint  FerretDB CPU ms/complaint

so what grows with the stored data shows as a column that climbs. Timings are wall time of the
awaited store calls (noisy on a shared machine); the CPU columns come from /proc and are the
figures to compare. `--storm` keeps the shipped mass-incident thresholds (incidents form);
otherwise the bench's ordinary thresholds (`pipeline_workload.ordinary_policies`). Run it in
your network namespace with the stack up. Texts and keys are never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline_figures import process_cpu
from pipeline_workload import ROOT, ordinary_policies
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient

from classifier.adapters.mongo import MongoClassificationStore
from classifier.domain import Classifier
from classifier.metrics import ClassifierMetrics
from classifier.service import Classification
from contracts import CustomerTier
from servicekit.clock import FakeClock
from tests._builders.classifier import normalized

sys.path.insert(0, str(ROOT / "deploy" / "local"))
import stack

FIXTURE = ROOT / "data" / "fixtures" / "complaints.dev.jsonl"
TIERS = [CustomerTier.STANDARD] * 9 + [CustomerTier.GOLD]


class Timed:
    """The store with every awaited method's wall time added up by name."""

    def __init__(self, store: MongoClassificationStore) -> None:
        self.store = store
        self.spent: dict[str, float] = defaultdict(float)

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.store, name)

        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await method(*args, **kwargs)
            finally:
                self.spent[name] += time.perf_counter() - started

        return timed


class _Received:
    """What `take` reads of a delivered message."""

    def __init__(self, body: Any) -> None:
        self.body = body


def texts() -> list[str]:
    rows = [json.loads(line) for line in Path(FIXTURE).read_text("utf-8").splitlines() if line]
    return [row["text"] for row in rows]


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=261)
    parser.add_argument("--every", type=int, default=5_000)
    parser.add_argument("--rate", type=float, default=200.0, help="complaints per s of receipt")
    parser.add_argument("--storm", action="store_true", help="shipped mass-incident thresholds")
    parser.add_argument("--mongo", default="mongodb://127.0.0.1:27017")
    args = parser.parse_args()

    policies = ROOT / "policies" if args.storm else ordinary_policies()
    classifier = Classifier.load(policy_dir=policies, pack="telecom")
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(args.mongo, tz_aware=True)
    name = f"classifier_store_{secrets.token_hex(4)}"
    db = client[name]
    store = MongoClassificationStore(db)
    await store.ensure_indexes()
    timed = Timed(store)
    start = datetime.now(UTC).replace(microsecond=0)

    async def publish(events: Any) -> None:
        del events  # decided and stored is all this bench measures

    use_case = Classification(
        classifier=classifier,
        store=timed,  # type: ignore[arg-type]
        publish=publish,
        clock=FakeClock(start),
        metrics=ClassifierMetrics(CollectorRegistry()),
    )
    words = texts()
    ferretdb = stack.alive("ferretdb")
    run = 1000 + secrets.randbelow(9000)
    sys.stdout.write(
        f"classifier store: {args.count:,} complaints, batches of {args.batch},"
        f" {'shipped' if args.storm else 'ordinary'} thresholds, database {name}\n"
        "stored  batch ms in mongo (largest calls)  | client CPU ms/c  FerretDB CPU ms/c\n"
    )
    mark_cpu, batches = time.process_time(), 0
    mark_db = process_cpu(ferretdb) if ferretdb else 0.0
    mark_calls: dict[str, float] = {}
    try:
        for at in range(0, args.count, args.batch):
            messages = [
                _Received(
                    normalized(
                        run * 10**6 + i,
                        words[i % len(words)],
                        key=f"ck_{run:06d}{i:026x}",
                        at=start + timedelta(seconds=i / args.rate),
                        tier=TIERS[i % len(TIERS)],
                    )
                )
                for i in range(at, min(args.count, at + args.batch))
            ]
            await use_case.take(messages)  # type: ignore[arg-type]
            batches += 1
            done = min(args.count, at + args.batch)
            if done // args.every != at // args.every or done == args.count:
                cpu, db_cpu = time.process_time(), process_cpu(ferretdb) if ferretdb else 0.0
                n = batches * args.batch
                calls = {k: v - mark_calls.get(k, 0.0) for k, v in timed.spent.items()}
                total = sum(calls.values())
                largest = sorted(calls.items(), key=lambda kv: -kv[1])[:4]
                detail = ", ".join(f"{k} {v / batches * 1000:.0f}" for k, v in largest)
                sys.stdout.write(
                    f"{done:>7,}  {total / batches * 1000:6.0f} ({detail})"
                    f"  | {(cpu - mark_cpu) / n * 1000:.2f}  {(db_cpu - mark_db) / n * 1000:.2f}\n"
                )
                sys.stdout.flush()
                mark_cpu, mark_db, batches = cpu, db_cpu, 0
                mark_calls = dict(timed.spent)
    finally:
        await client.drop_database(name)
        await client.close()


if __name__ == "__main__":
    asyncio.run(main())
