"""Assembly of the intake service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from faststream.asgi import AsgiFastStream

from contracts import Topic
from intake import handlers
from intake.adapters.mongo import MongoComplaintStore
from intake.http_api import SubmissionEndpoint
from intake.metrics import IntakeMetrics
from intake.pack import load_limits
from intake.ports import ComplaintStore
from intake.retention import RawPayloadRetention
from intake.service import Intake
from intake.settings import IntakeSettings
from servicekit.clock import Clock
from servicekit.shell import ServiceShell

SERVICE = "intake"


@dataclass
class Ports:
    """Outside-world adapters; tests pass in-memory ones."""

    store: ComplaintStore
    clock: Clock


def create_app(settings: IntakeSettings, ports: Ports | None = None) -> AsgiFastStream:
    """Build the intake app; a bad intake.yaml fails here, and nothing connects until it starts."""
    shell = ServiceShell(service=SERVICE, settings=settings, with_mongo=ports is None)
    live = ports or Ports(store=MongoComplaintStore(shell.require_mongo().db), clock=shell.clock())
    metrics = IntakeMetrics(shell.registry)
    secret = settings.complainant_key_secret.get_secret_value().encode()
    limits = load_limits(policy_dir=settings.policy_dir, pack=settings.policy_pack)
    intake = Intake(
        store=live.store,
        publish=shell.publish,
        clock=live.clock,
        metrics=metrics,
        secret=secret,
        limits=limits,
        duplicate_window=timedelta(hours=settings.duplicate_window_hours),
    )
    policy = shell.policy(live.clock)
    handlers.register(shell.broker, intake=intake, policy=policy, settings=settings.kafka)

    async def submit(key: bytes, raw: bytes) -> None:
        await shell.broker.publish(
            raw, topic=Topic.RAW.value, key=key, headers={"content-type": "application/json"}
        )

    endpoint = SubmissionEndpoint(
        api_keys={channel: key.get_secret_value() for channel, key in settings.api_keys.items()},
        submit=submit,
        dead_letter=policy.dead_letter,
        claim=live.store.claim_request,
        clock=live.clock,
        secret=secret,
        limits=limits,
        metrics=metrics,
    )
    routes = [("/complaints", endpoint)] if settings.api_keys else []
    retention = RawPayloadRetention(
        store=live.store,
        clock=live.clock,
        keep=timedelta(days=settings.raw_payload_retention_days),
        every_seconds=settings.raw_payload_prune_seconds,
    )

    return shell.app(
        on_startup=[live.store.ensure_indexes],
        background=[("intake-retention", retention.run_forever)],
        routes=routes,
    )
