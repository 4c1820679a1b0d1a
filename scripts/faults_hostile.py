"""Hostile-traffic faults for the fault suite (issue 21): oversized records, list and body floods.

Each is a `Fault` of scripts/faults.py: it runs halfway through the steady load, on the real
broker and FerretDB, and records a FAILED note when its own check does not hold; the suite then
checks that every complaint of the load was still normalized, classified, clocked and acknowledged.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import sys
import time
from pathlib import Path
from typing import Any, Protocol

import httpx
from aiokafka import AIOKafkaProducer
from pymongo import AsyncMongoClient

from complaints_cli.pipeline import SERVICES, Pipeline, StackConfig
from complaints_cli.topics import end_offsets, read_all
from contracts import MessageDeadLettered, Topic
from servicekit.kafka import tool_client_kwargs

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import list_flood

CONSUMERS: dict[Topic, frozenset[str]] = {
    Topic.RAW: frozenset({"intake"}),
    Topic.NORMALIZED: frozenset({"classifier"}),
    Topic.CLASSIFIED: frozenset({"sla", "notifier"}),
    Topic.LIFECYCLE: frozenset({"classifier", "sla", "notifier"}),
    Topic.SLA: frozenset({"notifier"}),
    Topic.INCIDENTS: frozenset({"notifier"}),
    Topic.NOTIFICATION_SENT: frozenset({"sla"}),
}
"""Every topic a service consumes, and the services consuming it (deploy/local's Kafka ACLs)."""
INPUT_TOPICS = tuple(CONSUMERS)
INTAKE_KEY = secrets.token_urlsafe(24)
NEAR_LIMIT = 950_000  # bytes: under the broker's 1 MiB message.max.bytes, over any bound of ours


class Run(Protocol):
    """What scripts/faults.py hands a fault (its `Run`)."""

    config: StackConfig
    notes: list[str]
    pipeline: Pipeline


def env() -> dict[str, str]:
    """Settings these faults need: the intake HTTP API and the case API switched on."""
    return {"INTAKE_API_KEYS": json.dumps({"web": INTAKE_KEY}), **list_flood.staff_env()}


def oversized(topic: Topic, marker: str) -> bytes:
    """A JSON record of about `NEAR_LIMIT` bytes that no service accepts."""
    body = {"marker": marker, "topic": topic.value, "text": "x" * NEAR_LIMIT}
    return json.dumps(body).encode()


async def oversized_every_topic(run: Run) -> None:
    """A ~950 KB record on every input topic: each consumer of it dead-letters it exactly once
    and moves on (a redelivery loop would dead-letter it again, or never get past it)."""
    marker = f"big-{secrets.token_hex(4)}"
    digests = {hashlib.sha256(oversized(t, marker)).hexdigest(): t.value for t in INPUT_TOPICS}
    since = await end_offsets(run.config.kafka, Topic.DLQ)  # polled: not every earlier letter
    producer = AIOKafkaProducer(
        **tool_client_kwargs(run.config.kafka), acks="all", max_request_size=1_040_000
    )
    await producer.start()
    try:
        for topic in INPUT_TOPICS:
            await producer.send_and_wait(topic.value, oversized(topic, marker), key=b"oversized")
    finally:
        await producer.stop()
    expected = {(t.value, service) for t, services in CONSUMERS.items() for service in services}
    letters: dict[tuple[str, str], int] = {}
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        letters = await _letters(run, digests, since)
        if set(letters) >= expected:
            break
        await asyncio.sleep(3)
    await asyncio.sleep(10)  # a consumer stuck in a loop would letter the record again by now
    letters = await _letters(run, digests, since)
    run.notes.append(f"~950 KB on {len(INPUT_TOPICS)} topics, {sum(letters.values())} letters")
    if missing := sorted(f"{s}@{t}" for t, s in expected - set(letters)):
        raise AssertionError(f"not dead-lettered: {missing}")
    if twice := sorted(f"{s}@{t}" for (t, s), n in letters.items() if n > 1):
        raise AssertionError(f"dead-lettered more than once: {twice}")


async def _letters(
    run: Run, digests: dict[str, str], since: dict[int, int]
) -> dict[tuple[str, str], int]:
    """(original topic, service) → dead letters of the oversized records (after `since`)."""
    letters: dict[tuple[str, str], int] = {}
    async for value in read_all(run.config.kafka, Topic.DLQ, since):
        data = MessageDeadLettered.model_validate_json(value).data
        if data.payload_sha256 in digests:
            where = (data.original_topic, data.service)
            letters[where] = letters.get(where, 0) + 1
    return letters


FLOOD_CASES = 5_000
"""Cases stored before the fault suite's list flood: what a CI run can seed in a minute or two;
`bench/list_flood.py` floods 100,000 (bench/README.md)."""


async def list_flood_during_load(
    run: Run, *, cases: int = FLOOD_CASES, concurrent: int = 50
) -> None:
    """Seed cases, then 50 concurrent `GET /cases`: each answered or shed within 2 s."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(run.config.mongo, tz_aware=True)
    try:
        db = client[run.config.database]
        await list_flood.seed_cases(db, await list_flood.template_case(db), cases)
    finally:
        await client.close()
    base = f"http://127.0.0.1:{run.config.port('sla')}"
    result = await list_flood.flood(base, concurrent=concurrent)
    run.notes.append(f"{concurrent} lists over {cases} seeded cases: {result.line()}")
    if result.slowest_s > 2.0 or not set(result.statuses) <= {200, 503}:
        raise AssertionError(f"list flood: {result.line()}")
    if not result.retry_after:
        raise AssertionError("a 503 without Retry-After")


async def body_flood(run: Run, *, bodies: int = 20, size: int = 10 * 1024 * 1024) -> None:
    """`bodies` concurrent 10 MB POSTs to intake: each refused (413) or shed, never taken in."""
    url = f"http://127.0.0.1:{run.config.port('intake')}/complaints"
    blob = b'{"channel": "web", "text": "' + b"x" * size + b'"}'

    async def one() -> int:
        async with httpx.AsyncClient(timeout=30) as http:
            try:
                answer = await http.post(url, content=blob, headers={"X-Api-Key": INTAKE_KEY})
            except httpx.TransportError:
                return 0  # the server closed the connection on an unread body: refused too
            return answer.status_code

    statuses = await asyncio.gather(*(one() for _ in range(bodies)))
    counted = {s: statuses.count(s) for s in sorted(set(statuses))}
    run.notes.append(f"{bodies} × 10 MB POSTs: {counted}")
    if not set(statuses) <= {0, 413, 503}:
        raise AssertionError(f"10 MB bodies answered {counted}")


STOP_LIMIT_S = 10.0
"""How long a service may take to exit after SIGTERM (issue 21), whatever it is doing."""


async def sigterm_mid_flood(run: Run) -> None:
    """Each service in turn gets SIGTERM while a burst of complaints is in its consumers' batches
    and, for the two with an HTTP API, while 50 requests are in flight (list requests to the SLA,
    10 MB bodies to intake); each must exit within `STOP_LIMIT_S`, and is started again so the
    load still completes (an unfinished batch is not committed and comes again)."""
    stopped: dict[str, float] = {}
    for service in SERVICES:
        await list_flood.burst(run.config, count=20)  # something in every consumer's next batch
        busy = asyncio.Event()
        http = asyncio.create_task(_in_flight(run, service, busy))
        await asyncio.wait_for(busy.wait(), timeout=30)
        stopped[service] = await asyncio.to_thread(
            list_flood.sigterm_seconds, run.pipeline, service
        )
        await http
        run.pipeline.start(service, replica=0)
        await run.pipeline.wait_ready()
    figures = ", ".join(f"{s} {t:.1f} s" for s, t in stopped.items())
    run.notes.append(f"SIGTERM mid-flood: {figures}")
    if slow := sorted(s for s, t in stopped.items() if t > STOP_LIMIT_S):
        raise AssertionError(f"not gone within {STOP_LIMIT_S:.0f} s of SIGTERM: {slow}")


async def _in_flight(run: Run, service: str, busy: asyncio.Event) -> None:
    """Requests to `service`'s API until it goes away (none for a service without one)."""
    if service not in {"sla", "intake"}:
        busy.set()
        return
    base = f"http://127.0.0.1:{run.config.port(service)}"
    blob = b'{"channel": "web", "text": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:

        async def one() -> None:
            try:
                if service == "sla":
                    headers = {"X-Api-Key": list_flood.ROLES["lead"]}
                    await client.get("/cases?page_size=200", headers=headers)
                else:
                    headers = {"X-Api-Key": INTAKE_KEY}
                    await client.post("/complaints", content=blob, headers=headers)
            except httpx.TransportError:
                pass  # the server went away under the request: what this fault does

        requests = [asyncio.create_task(one()) for _ in range(50)]
        await asyncio.sleep(0.3)  # the requests are sent and waiting on the server
        busy.set()
        await asyncio.gather(*requests)
