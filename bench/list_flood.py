"""List flood on the real stack: 50 concurrent `GET /cases` over 100,000 stored cases.

The four services run as processes with the case API on; complaints flow at a steady rate while
the flood runs. Every list request must be answered (200) or shed (503 + Retry-After) within 2 s,
acknowledgements must keep arriving at the notification receiver during the flood, and the SLA
process must exit within 10 s of SIGTERM afterwards. Prints one line of figures per check.

Usage: `python bench/list_flood.py [--cases 100000] [--concurrent 50] [--rounds 3]`.
The scenario functions are also used by the fault suite (scripts/faults_hostile.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import signal
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from complaints_cli import workload
from complaints_cli.pipeline import SERVICES, Pipeline, StackConfig
from complaints_cli.receiver import Receiver, local_endpoints, serving

ROLES = {"lead": secrets.token_urlsafe(24)}
STAFF = {key: {"staff_id": f"{role}-bench", "role": role} for role, key in ROLES.items()}
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
Json = dict[str, Any]


def staff_env() -> dict[str, str]:
    """Settings that turn the case API on with the bench's lead key."""
    return {"SLA_API_KEYS": json.dumps(STAFF), "SLA_CENSUS_SECONDS": "0"}


async def template_case(db: AsyncDatabase[Json], limit_s: float = 120) -> Json:
    """A case the SLA stored for a real complaint (the shape to clone)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if (doc := await db["cases"].find_one({})) is not None:
            return doc
        await asyncio.sleep(1)
    raise TimeoutError("no case stored")


async def seed_cases(db: AsyncDatabase[Json], template: Json, count: int) -> float:
    """Insert `count` copies of `template` with their own ids and receipt times; seconds taken."""
    started = time.monotonic()
    rng = random.Random(7)
    base = datetime.now(UTC) - timedelta(days=30)
    batch: list[Json] = []
    for index in range(count):
        doc = dict(template)
        suffix = "".join(rng.choice(ALPHABET) for _ in range(10))
        doc["_id"] = f"CP{base:%Y%m%d}-{suffix}"
        if "complaint_id" in doc:
            doc["complaint_id"] = doc["_id"]
        if "received_at" in doc:
            doc["received_at"] = base + timedelta(seconds=index * 20)
        doc.pop("outbox", None)
        batch.append(doc)
        if len(batch) == 1000:
            await db["cases"].insert_many(batch, ordered=False)
            batch = []
    if batch:
        await db["cases"].insert_many(batch, ordered=False)
    return time.monotonic() - started


@dataclass(frozen=True)
class Flood:
    """What a round of concurrent list requests got."""

    statuses: dict[int, int]
    slowest_s: float
    retry_after: bool

    def line(self) -> str:
        """One line of figures."""
        return (
            f"statuses {dict(sorted(self.statuses.items()))}, slowest {self.slowest_s:.2f} s, "
            f"Retry-After on every 503: {self.retry_after}"
        )


async def flood(base_url: str, *, concurrent: int, query: str = "") -> Flood:
    """`concurrent` list requests at once, each on its own connection of one client.

    One client for all: building a client per request costs a TLS context each, and fifty of them
    stall this process's own loop for seconds (which the figures would then blame on the API).
    """
    limits = httpx.Limits(max_connections=concurrent, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as http:

        async def one() -> tuple[int, float, bool]:
            started = time.monotonic()
            answer = await http.get(f"/cases{query}", headers={"X-Api-Key": ROLES["lead"]})
            shed_ok = answer.status_code != 503 or "retry-after" in answer.headers
            return answer.status_code, time.monotonic() - started, shed_ok

        results = await asyncio.gather(*(one() for _ in range(concurrent)))
    statuses: dict[int, int] = {}
    for status, _, _ in results:
        statuses[status] = statuses.get(status, 0) + 1
    return Flood(statuses, max(r[1] for r in results), all(r[2] for r in results))


async def acks_during(receiver: Receiver, work: Any) -> tuple[int, Any]:
    """Acknowledgements the receiver got while `work` ran, and its result."""
    before = len(receiver.deliveries)
    result = await work
    return len(receiver.deliveries) - before, result


def sigterm_seconds(pipeline: Pipeline, service: str) -> float:
    """SIGTERM one service; seconds until its process is gone."""
    [proc] = [p for p in pipeline.processes if p.name == service]
    started = time.monotonic()
    proc.process.send_signal(signal.SIGTERM)
    proc.process.wait(timeout=60)
    pipeline.processes.remove(proc)
    return time.monotonic() - started


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--concurrent", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    run_id = f"flood{datetime.now(UTC):%H%M%S}"
    receiver, channels = local_endpoints(8025)
    config = StackConfig(database=f"complaints_{run_id}", extra_env={**channels, **staff_env()})
    client: AsyncMongoClient[Json] = AsyncMongoClient(config.mongo, tz_aware=True)
    db = client[config.database]
    pipeline = Pipeline(config)
    ok = True
    try:
        async with serving(receiver, port=config.receiver_port):
            pipeline.start_all(SERVICES)
            await pipeline.wait_ready()
            first = list(workload.build(run_id=run_id, count=5, start=datetime.now(UTC)))
            await workload.publish(first, bootstrap=config.kafka)
            seconds = await seed_cases(db, await template_case(db), args.cases)
            print(f"seeded {args.cases} cases in {seconds:.0f} s", flush=True)
            base = f"http://127.0.0.1:{config.port('sla')}"
            later = list(workload.build(run_id=f"{run_id}b", count=60, start=datetime.now(UTC)))

            async def load() -> None:
                for start in range(0, len(later), 4):
                    await workload.publish(later[start : start + 4], bootstrap=config.kafka)
                    await asyncio.sleep(0.5)

            loading = asyncio.create_task(load())
            for round_ in range(args.rounds):
                acked, result = await acks_during(receiver, flood(base, concurrent=args.concurrent))
                print(f"round {round_ + 1}: {result.line()}; {acked} deliveries meanwhile")
                ok &= result.slowest_s <= 2.0 and set(result.statuses) <= {200, 503}
                ok &= result.retry_after
            await loading
            await asyncio.sleep(10)
            print(f"deliveries at the receiver: {len(receiver.deliveries)}")
            stopped = sigterm_seconds(pipeline, "sla")
            print(f"sla exited {stopped:.1f} s after SIGTERM")
            ok &= stopped <= 10
    finally:
        pipeline.stop_all()
        await client.drop_database(config.database)
        await client.close()
    print(f"list flood: {'ok' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
