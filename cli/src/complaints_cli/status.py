"""`complaints status`: the running pipeline at a glance, in the terminal.

Four questions, each answered from its own source so one server being down does not hide the
rest: how many complaints reached each stage (MongoDB), how far behind each consumer group is
(Kafka: committed offsets against the partitions' ends), which deadlines are open and overdue per
severity (MongoDB), and whether each service answers `/healthz` and `/readyz` (HTTP).
Gathering is here; `status_view.render` takes a `Status` and touches nothing.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from complaints_cli.sla_clocks import clock_documents, open_by_severity
from complaints_cli.status_view import (
    GroupLag,
    Health,
    Status,
    group_lags,
    open_deadlines,
    render,
)
from contracts.read_models import (
    CASE_SHEETS,
    CLASSIFICATIONS,
    COMPLAINT_RECEIPTS,
    NOTIFICATION_OUTCOMES,
    ReadModel,
)

SERVICE_PORTS: dict[str, int] = {"intake": 8001, "classifier": 8002, "sla": 8003, "notifier": 8004}
"""Where the local stack's services listen (ServiceSettings.http_port of each)."""

STAGES: tuple[tuple[str, ReadModel[Any]], ...] = (
    ("received", COMPLAINT_RECEIPTS),
    ("classified", CLASSIFICATIONS),
    ("cases", CASE_SHEETS),
)
"""Stage label → the read model with one document per complaint that reached it."""

TIMEOUT = 5.0


def _error(exc: BaseException) -> str:
    """A short reason: the exception's type, and its message when that is short."""
    name, text = type(exc).__name__, str(exc).removeprefix(f"{type(exc).__name__}: ")
    return f"{name}: {text}" if text and len(text) <= 160 else name


async def read_mongo(status: Status, *, mongo_url: str, now: datetime) -> None:
    """Stage counts, notification outcomes and open deadlines (counted on the server)."""
    from pydantic import SecretStr

    from servicekit.mongo import database, open_client
    from servicekit.read_models import count, tally
    from servicekit.settings import MongoSettings

    settings = MongoSettings(
        url=SecretStr(mongo_url), database=status.database, timeout_ms=int(TIMEOUT * 1000)
    )
    client = open_client(settings, app_name="complaints-status")
    db = database(client, settings)
    try:
        stages = [(label, await count(db, model)) for label, model in STAGES]
        clocks = await clock_documents(db)  # the case sheets (ADR 0006)
        stages.append(("with clocks", len({row["complaint_id"] for row in clocks})))
        stages.append(("notifications", await count(db, NOTIFICATION_OUTCOMES)))
        status.stages = stages
        status.notifications = await tally(db, NOTIFICATION_OUTCOMES, "status")
        status.deadlines = open_deadlines(*open_by_severity(clocks, now))
    except Exception as exc:
        status.mongo_error = _error(exc)
    finally:
        await client.close()


async def read_offsets(bootstrap: str) -> list[GroupLag]:
    """Every consumer group's committed offsets against the current ends of those partitions."""
    from aiokafka import AIOKafkaConsumer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient

    from servicekit.kafka import tool_client_kwargs

    kwargs = tool_client_kwargs(bootstrap)
    admin = AIOKafkaAdminClient(**kwargs, request_timeout_ms=int(TIMEOUT * 1000))
    try:
        await admin.start()
        groups = sorted(str(g[0]) for g in await admin.list_consumer_groups())
        committed = {
            group: {
                (tp.topic, tp.partition): meta.offset
                for tp, meta in (await admin.list_consumer_group_offsets(group)).items()
                if meta.offset >= 0
            }
            for group in groups
        }
    finally:
        await admin.close()
    parts = sorted({key for offsets in committed.values() for key in offsets})
    if not parts:
        return []
    consumer = AIOKafkaConsumer(**kwargs, request_timeout_ms=int(TIMEOUT * 1000))
    try:
        await consumer.start()
        ends = await consumer.end_offsets([TopicPartition(t, p) for t, p in parts])
    finally:
        await consumer.stop()
    return group_lags(committed, {(tp.topic, tp.partition): end for tp, end in ends.items()})


async def read_kafka(status: Status, *, bootstrap: str) -> None:
    """Consumer lag per group and topic, or the reason it could not be read."""
    try:
        status.lags = await asyncio.wait_for(read_offsets(bootstrap), TIMEOUT * 3)
    except Exception as exc:
        status.kafka_error = _error(exc)


async def read_health(status: Status, *, host: str, ports: Mapping[str, int]) -> None:
    """`/healthz` and `/readyz` of every service."""
    import httpx

    async def answer(client: httpx.AsyncClient, url: str) -> bool | None:
        try:
            return (await client.get(url)).status_code == 200
        except httpx.HTTPError:
            return None

    async with httpx.AsyncClient(timeout=TIMEOUT) as client:

        async def one(service: str, port: int) -> Health:
            base = f"http://{host}:{port}"
            live, ready = await asyncio.gather(
                answer(client, f"{base}/healthz"), answer(client, f"{base}/readyz")
            )
            return Health(service, port, live, ready)

        status.health = await asyncio.gather(*(one(s, p) for s, p in ports.items()))


@dataclass(frozen=True)
class StatusOptions:
    """What `complaints status` was asked to look at."""

    database: str
    mongo_url: str
    kafka: str
    host: str = "127.0.0.1"
    ports: Mapping[str, int] = field(default_factory=lambda: dict(SERVICE_PORTS))


async def collect(options: StatusOptions, *, now: datetime) -> Status:
    """Ask MongoDB, Kafka and the services at the same time."""
    status = Status(database=options.database)
    await asyncio.gather(
        read_mongo(status, mongo_url=options.mongo_url, now=now),
        read_kafka(status, bootstrap=options.kafka),
        read_health(status, host=options.host, ports=options.ports),
    )
    return status


def status_command(options: StatusOptions) -> int:
    """Print the status; 1 when a part could not be read or a service is not ready."""
    # The clients log each failed connection attempt; the status section already says so.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    status = asyncio.run(collect(options, now=datetime.now(UTC)))
    sys.stdout.write(render(status) + "\n")
    healthy = all(h.live and h.ready for h in status.health)
    return 0 if healthy and not status.mongo_error and not status.kafka_error else 1
