"""Assembly of the intake service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from faststream.asgi import AsgiFastStream
from servicekit.clock import Clock
from servicekit.shell import ServiceShell

from intake import handlers
from intake.adapters.mongo import MongoComplaintStore
from intake.domain import IntakeLimits
from intake.metrics import IntakeMetrics
from intake.ports import ComplaintStore
from intake.service import Intake
from intake.settings import IntakeSettings

SERVICE = "intake"


@dataclass
class Ports:
    """Outside-world adapters; tests pass in-memory ones."""

    store: ComplaintStore
    clock: Clock


def create_app(settings: IntakeSettings, ports: Ports | None = None) -> AsgiFastStream:
    """Build the intake app; nothing connects until it starts."""
    shell = ServiceShell(service=SERVICE, settings=settings, with_mongo=ports is None)
    live = ports or Ports(store=MongoComplaintStore(shell.require_mongo().db), clock=shell.clock())
    intake = Intake(
        store=live.store,
        publish=shell.publish,
        clock=live.clock,
        metrics=IntakeMetrics(shell.registry),
        secret=settings.complainant_key_secret.get_secret_value().encode(),
        limits=IntakeLimits(),
        duplicate_window=timedelta(hours=settings.duplicate_window_hours),
    )
    handlers.register(
        shell.broker, intake=intake, policy=shell.policy(live.clock), settings=settings.kafka
    )

    return shell.app(on_startup=[live.store.ensure_indexes])
