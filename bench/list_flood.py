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
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from complaints_cli import workload
from complaints_cli.pipeline import SERVICES, Pipeline, StackConfig
from complaints_cli.receiver import Receiver, local_endpoints, serving
from sla.adapters.mongo_cases import MongoCaseStore
from sla.ports import CaseRecord

ROLES = {"lead": secrets.token_urlsafe(24)}
STAFF = {key: {"staff_id": f"{role}-bench", "role": role} for role, key in ROLES.items()}
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
QUERIES = (
    "",
    "?state=classified&page_size=50",
    "?assignee=handler-07",
    "?overdue=true",
    "?state=classified&overdue=true",
    "?due_within_hours=2",
)
"""A round each: the whole list, an indexed filter, a rare indexed value, due lists (alone,
after an equality, a window)."""
Json = dict[str, Any]
NOT_503 = frozenset({"oversize", "too_many_auth_failures", "client_gone"})
"""Shed reasons that are not answered 503 (413, 429, no answer)."""
SEED_BATCH = 2_000


def staff_env() -> dict[str, str]:
    """Settings that turn the case API on with the bench's lead key."""
    return {"SLA_API_KEYS": json.dumps(STAFF), "SLA_CENSUS_SECONDS": "0"}


async def template_case(db: AsyncDatabase[Json], limit_s: float = 120) -> CaseRecord:
    """A case the SLA stored for a real complaint (the record to clone), read by its store."""
    deadline = time.monotonic() + limit_s
    store = MongoCaseStore(db)
    while time.monotonic() < deadline:
        doc = await db["cases"].find_one({}, {"_id": 1})
        if doc is not None and (record := await store.load(doc["_id"])) is not None:
            return record
        await asyncio.sleep(1)
    raise TimeoutError("no case stored")


def clone(template: CaseRecord, complaint_id: str, received_at: datetime) -> CaseRecord:
    """A valid case like `template` under another id and receipt time (its clocks moved with
    it, so the oldest are overdue), with no change log."""
    facts = replace(template.facts, complaint_id=complaint_id, received_at=received_at)
    shift = received_at - template.facts.received_at
    clocks = tuple(
        replace(c, started_at=c.started_at + shift, due_at=c.due_at + shift)
        for c in template.clocks
    )
    return replace(
        template, facts=facts, clocks=clocks, log=(), unpublished=(), refusals={}, submissions={}
    )


async def seed_cases(db: AsyncDatabase[Json], template: CaseRecord, count: int) -> float:
    """Store `count` clones of `template` with their own ids and receipt times through the SLA's
    case store, in batches of `SEED_BATCH` (its unordered batch inserts); seconds taken."""
    store = MongoCaseStore(db)
    started = time.monotonic()
    rng = random.Random(7)
    base = datetime.now(UTC) - timedelta(seconds=20 * count)  # the newest not yet due
    for first in range(0, count, SEED_BATCH):
        batch = []
        for index in range(first, min(first + SEED_BATCH, count)):
            suffix = "".join(rng.choice(ALPHABET) for _ in range(10))
            at = base + timedelta(seconds=index * 20)
            batch.append(clone(template, f"CP{at:%Y%m%d}-{suffix}", at))
        await store.insert_new(batch)
        if (done := first + SEED_BATCH) % 20_000 == 0:
            print(f"  seeded {done} in {time.monotonic() - started:.0f} s", flush=True)
    return time.monotonic() - started


@dataclass(frozen=True)
class Flood:
    """What a round of concurrent list requests got."""

    statuses: dict[int, int]
    seconds: list[float]  # each request's, sorted
    retry_after: bool

    @property
    def slowest_s(self) -> float:
        """The slowest request's seconds."""
        return self.seconds[-1]

    def percentile(self, p: int) -> float:
        """The p-th percentile of the requests' seconds (nearest rank)."""
        return self.seconds[max(0, -(-p * len(self.seconds) // 100) - 1)]

    def line(self) -> str:
        """One line of figures."""
        ranks = ", ".join(f"p{p} {self.percentile(p):.2f}" for p in (50, 90, 99))
        return (
            f"statuses {dict(sorted(self.statuses.items()))} ({self.statuses.get(503, 0)} shed), "
            f"{ranks}, slowest {self.slowest_s:.2f} s, Retry-After on every 503: "
            f"{self.retry_after}"
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
    return Flood(statuses, sorted(r[1] for r in results), all(r[2] for r in results))


async def shed_reasons(base_url: str) -> dict[str, float]:
    """The SLA's `complaints_http_shed_total` by reason (busy, timeout, database, …) so far."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        text = (await http.get("/metrics")).text
    found: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("complaints_http_shed_total{"):
            labels, _, value = line.rpartition(" ")
            reason = labels.partition('reason="')[2].partition('"')[0]
            found[reason] = found.get(reason, 0.0) + float(value)
    return found


async def acks_during(receiver: Receiver, work: Any) -> tuple[int, Any]:
    """Acknowledgements the receiver got while `work` ran, and its result."""
    before = len(receiver.deliveries)
    result = await work
    return len(receiver.deliveries) - before, result


async def burst(config: StackConfig, *, count: int) -> None:
    """`count` complaints published at once (each consumer then has a batch in hand)."""
    run_id = f"burst{secrets.token_hex(3)}"
    messages = list(workload.build(run_id=run_id, count=count, start=datetime.now(UTC)))
    await workload.publish(messages, bootstrap=config.kafka)


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
    parser.add_argument("--rounds", type=int, default=len(QUERIES))
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
                query = QUERIES[round_ % len(QUERIES)]
                work = flood(base, concurrent=args.concurrent, query=query)
                shed_before = await shed_reasons(base)
                began = time.monotonic()
                acked, result = await acks_during(receiver, work)
                rate = acked / max(time.monotonic() - began, 1e-3)
                print(
                    f"round {round_ + 1} {query or '(no filter)'}: {result.line()}; "
                    f"{acked} deliveries meanwhile ({rate:.1f}/s)",
                    flush=True,
                )
                print("  each request (s): " + " ".join(f"{t:.2f}" for t in result.seconds))
                shed = {
                    reason: int(n - shed_before.get(reason, 0.0))
                    for reason, n in (await shed_reasons(base)).items()
                    if n > shed_before.get(reason, 0.0)
                }
                counted = sum(n for r, n in shed.items() if r not in NOT_503)
                print(
                    f"  shed by reason (SLA metrics): {shed}; 503s with a reason: {counted} of "
                    f"{result.statuses.get(503, 0)}",
                    flush=True,
                )
                ok &= counted == result.statuses.get(503, 0)  # every 503 says why
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
