"""The measuring side of `bench/sla_receipt_write.py` (one child process per side and round)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pipeline_figures as figures
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient
from sla_backlog import classified
from sla_scheduler import POLICIES
from sla_tally import Commands

from contracts import (
    Audience,
    ComplaintClassified,
    DeliveryStatus,
    Event,
    NotificationReceipt,
    NotificationSent,
    Severity,
)
from servicekit.bodies import Received, received
from servicekit.clock import SystemClock
from servicekit.inbound import Inbound
from sla.adapters.mongo_cases import MongoCaseStore
from sla.adapters.slots import MongoDueIndex
from sla.casework.receipts import RecordReceipt
from sla.casework.start import StartClocks
from sla.domain import BusinessCalendar, SlaPolicy
from sla.metrics import SlaMetrics

MONGO = "mongodb://127.0.0.1:27017"


async def _publish(events: Sequence[Event]) -> None:
    """What the service's publish pays before Kafka: each event serialised."""
    for event in events:
        event.model_dump_json()


def _wrap(body: Any, n: int) -> Received[Any]:
    return received(Inbound("t", 0, n, None, b"", 0), body)


def _events(prefix: str, count: int, first: int = 0) -> list[ComplaintClassified]:
    """`count` classified complaints, ids `<prefix (2 characters)><number from first>`."""
    now = datetime.now(UTC)
    severities = list(Severity)
    out = []
    for i in range(first, first + count):
        data = classified(i, now - timedelta(seconds=count - i), severities[i % 4], prefix)
        out.append(
            ComplaintClassified.build(
                data=data,
                subject=data.complaint_id,
                source="/complaints/classifier",
                time=now,
                cause=data.complaint_id,
            )
        )
    return out


def _receipt(cid: str) -> NotificationSent:
    key = f"{cid}:ack:-:-:customer"
    data = NotificationReceipt(
        notification_id=key,
        complaint_id=cid,
        audience=Audience.CUSTOMER,
        channel="sms",
        template="acknowledgement",
        acknowledgement=True,
        status=DeliveryStatus.DELIVERED,
        attempts=1,
    )
    return NotificationSent.build(
        data=data, subject=cid, source="/complaints/notifier", time=datetime.now(UTC), cause=key
    )


async def measure(database: str, tag: str, count: int, batch: int, stored: int) -> dict[str, float]:
    """Seed the database up to `stored` cases (kept between children: none stored, a fresh
    database), then start and acknowledge `count` more (ids marked `tag`); figures per case."""
    commands = Commands()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        MONGO, tz_aware=True, event_listeners=[commands]
    )
    if not stored:
        await client.drop_database(database)
    db = client[database]
    cases = MongoCaseStore(db)
    await cases.ensure_indexes()
    metrics = SlaMetrics(CollectorRegistry())
    clock = SystemClock()
    start = StartClocks(
        policy=SlaPolicy.load(policy_dir=POLICIES),
        calendar=BusinessCalendar.load(policy_dir=POLICIES),
        cases=cases,
        index=MongoDueIndex(db, settle=timedelta(seconds=10)),
        publish=_publish,
        clock=clock,
        metrics=metrics,
        wake=lambda _at: None,
    )
    receipts = RecordReceipt(cases=cases, metrics=metrics, publish=_publish, clock=clock)
    have = await db["cases"].count_documents({})
    for n in range(have, stored, 500):  # the background, through the service's own insert
        seeds = _events("BK", min(500, stored - n), n)
        await start.on_classified([_wrap(e, i) for i, e in enumerate(seeds)])
    events = _events(tag, count, secrets.randbelow(90_000_000))  # new ids every run
    sent = [_receipt(e.data.complaint_id) for e in events]
    out: dict[str, float] = {}
    for step, items, handler in (
        ("start", events, start.on_classified),
        ("receipts", sent, receipts.on_receipts),
    ):
        commands.sent.clear()
        commands.counting = True
        server = figures.cpu_seconds(("ferretdb",))["ferretdb"]
        own = time.process_time()
        for at in range(0, count, batch):
            await handler([_wrap(m, i) for i, m in enumerate(items[at : at + batch])])
        out[f"{step}_sla_ms"] = (time.process_time() - own) / count * 1000
        out[f"{step}_server_ms"] = (
            (figures.cpu_seconds(("ferretdb",))["ferretdb"] - server) / count * 1000
        )
        out[f"{step}_ops"] = sum(commands.sent.values()) / count
        commands.counting = False
    ids = [e.data.complaint_id for e in events]
    docs = await db["cases"].find({"_id": {"$in": ids}}, {"acknowledged": 1}).to_list(None)
    if sum(bool(d.get("acknowledged")) for d in docs) != count:
        raise SystemExit(
            f"{sum(bool(d.get('acknowledged')) for d in docs)} of {count} acknowledged"
        )
    await client.close()
    return out
