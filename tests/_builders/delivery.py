"""A delivery policy on a collecting broker, and records of a known age (servicekit.delivery)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry

from servicekit.clock import FakeClock
from servicekit.delivery import DeliveryPolicy, Inbound
from servicekit.metrics import KitMetrics

CID = "CP20261124-7K3M9Q2XAB"
WALL = 1_800_000_000.0  # real epoch seconds "now"


class CollectingBroker:
    """Stands in for the Kafka broker: keeps what is published."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    async def publish(self, body: bytes, **kwargs: Any) -> None:
        self.published.append({"body": body, **kwargs})


def message(offset: int, *, age_s: float | None) -> Inbound:
    """A record published `age_s` real seconds ago (None: the record carries no timestamp)."""
    return Inbound(
        topic="complaints.classified.v1",
        partition=0,
        offset=offset,
        key=CID.encode(),
        value=b"{}",
        timestamp_ms=round((WALL - age_s) * 1000) if age_s is not None else -1,
    )


def policy(registry: CollectorRegistry) -> tuple[DeliveryPolicy, CollectingBroker]:
    """The SLA's delivery policy (one attempt) publishing onto a collecting broker."""
    broker = CollectingBroker()
    delivery = DeliveryPolicy(
        service="sla",
        broker=cast(KafkaBroker, broker),
        metrics=KitMetrics(registry, "sla"),
        clock=FakeClock(datetime(2026, 11, 24, 1, 0, tzinfo=UTC)),  # business time: unused here
        max_attempts=1,
        wall=lambda: WALL,
    )
    return delivery, broker
