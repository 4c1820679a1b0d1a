"""The parts every service is assembled from: registry, broker, delivery policy, Mongo, app."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from faststream.asgi import AsgiFastStream
from faststream.asgi.types import ASGIApp
from prometheus_client import CollectorRegistry

from contracts import Event
from servicekit.app import Check, Hook, build_app
from servicekit.assignment import Assignments
from servicekit.clock import Clock, clock_from_settings
from servicekit.delivery import DeliveryPolicy
from servicekit.httpguard import HttpGuard
from servicekit.kafka import ensure_topics, make_broker, publish_all
from servicekit.lag import ConsumerLag, subscriber_consumers
from servicekit.metrics import KitMetrics
from servicekit.mongo import MongoResource
from servicekit.settings import ServiceSettings
from servicekit.signing import Signer, Verifier

log = logging.getLogger(__name__)


class ServiceShell:
    """Builds the shared plumbing of one service from its settings; nothing connects yet."""

    def __init__(self, *, service: str, settings: ServiceSettings, with_mongo: bool) -> None:
        self.service = service
        self.settings = settings
        self.registry = CollectorRegistry()
        self.broker = make_broker(settings=settings.kafka, service=service, registry=self.registry)
        self.kit = KitMetrics(self.registry, service)
        self.signer = Signer.of(service, settings.signing)
        self.verifier = Verifier.of(settings.signing)
        if dev := settings.signing.dev_only():
            log.warning("public dev-only signing keys in use", extra={"fields": {"signers": dev}})
        self.guard = HttpGuard(settings.http_guard, self.kit)
        self.assignments = Assignments()  # /readyz: every consumer has its partitions
        self.lag = ConsumerLag(
            service=service,
            gauge=self.kit.consumer_lag,
            consumers=lambda: subscriber_consumers(self.broker),
            interval=settings.lag_interval_seconds,
        )
        self.mongo = (
            MongoResource(settings.mongo, app_name=service, metrics=self.kit)
            if with_mongo
            else None
        )

    def require_mongo(self) -> MongoResource:
        """The Mongo resource; only shells built with `with_mongo=True` have one."""
        if self.mongo is None:
            raise RuntimeError(f"{self.service}: built without MongoDB")
        return self.mongo

    def clock(self) -> Clock:
        """The clock the settings ask for (real, or scaled for demos)."""
        return clock_from_settings(
            scale=self.settings.time_scale,
            origin=self.settings.time_origin,
            anchor=self.settings.time_anchor,
            plan=self.settings.time_plan,
            anchor_file=self.settings.time_anchor_file,
        )

    def policy(self, clock: Clock) -> DeliveryPolicy:
        """Commit-after-work delivery with retries and dead-lettering."""
        return DeliveryPolicy(
            service=self.service,
            broker=self.broker,
            metrics=self.kit,
            clock=clock,
            payload_bound=self.settings.kafka.dead_letter_payload_bytes,
            assignments=self.assignments,
        )

    async def publish(self, events: Sequence[Event]) -> None:
        """Publish events keyed by complaint id, signed as this service, and wait for the
        broker's acknowledgement."""
        await publish_all(self.broker, events, self.signer)
        for topic, count in Counter(event.topic.value for event in events).items():
            self.kit.published.labels(self.service, topic).inc(count)

    def app(
        self,
        *,
        on_startup: Sequence[Hook] = (),
        after_startup: Sequence[Hook] = (),
        on_shutdown: Sequence[Hook] = (),
        after_shutdown: Sequence[Hook] = (),
        readiness: Sequence[Check] = (),
        routes: Sequence[tuple[str, ASGIApp]] = (),
        background: Sequence[tuple[str, Callable[[], Coroutine[Any, Any, None]]]] = (),
    ) -> AsgiFastStream:
        """The ASGI app: topics ensured and Mongo prepared before the broker starts consuming.

        Consumer lag and the `background` loops (name, run forever) run from start-up until
        shutdown begins. Every route in `routes` is served behind the service's one
        `HttpGuard`; the health and metrics routes are not.
        """
        tasks: list[asyncio.Task[None]] = []

        async def start_loops() -> None:
            tasks.extend(asyncio.create_task(run(), name=name) for name, run in background)

        async def stop_loops() -> None:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        async def ensure() -> None:
            if self.settings.kafka.create_topics:
                await ensure_topics(self.settings.kafka)

        checks = [
            *readiness,
            *([self.mongo.ready] if self.mongo else []),
            self.assignments.ready,
        ]
        # FastStream runs `on_shutdown` before the broker stops consuming and `after_shutdown`
        # once in-flight batches are done: connections must outlive the last batch.
        closers = [*after_shutdown, *([self.mongo.close] if self.mongo else [])]
        return build_app(
            broker=self.broker,
            registry=self.registry,
            readiness=checks,
            on_startup=[ensure, *on_startup],
            after_startup=[start_loops, *after_startup, self.lag.start],
            on_shutdown=[self.lag.stop, stop_loops, *on_shutdown],
            after_shutdown=closers,
            routes=[(path, self.guard.wrap(api)) for path, api in routes],
        )
