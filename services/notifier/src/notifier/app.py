"""Assembly of the notifier service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import httpx
import yaml
from faststream.asgi import AsgiFastStream

from notifier import handlers
from notifier.adapters.mongo import MongoContactBook, MongoNotificationLog
from notifier.channels.base import Channel
from notifier.channels.http import SignedHttpChannel
from notifier.domain import Templates
from notifier.metrics import NotifierMetrics
from notifier.ports import ContactBook, NotificationLog
from notifier.service import Notifier, RetryPolicy
from notifier.settings import NotifierSettings
from servicekit.clock import Clock
from servicekit.shell import ServiceShell

SERVICE = "notifier"


@dataclass
class Ports:
    """Outside-world adapters; tests pass in-memory ones."""

    log: NotificationLog
    contacts: ContactBook
    clock: Clock
    channels: dict[str, Channel] | None = None


def load_templates(settings: NotifierSettings) -> Templates:
    """Templates of the configured policy pack (a bad pack fails at start)."""
    path = settings.policy_dir / settings.policy_pack / "notifier.yaml"
    with path.open(encoding="utf-8") as handle:
        return Templates(yaml.safe_load(handle)["templates"])


def create_app(settings: NotifierSettings, ports: Ports | None = None) -> AsgiFastStream:
    """Build the notifier app."""
    templates = load_templates(settings)
    shell = ServiceShell(service=SERVICE, settings=settings, with_mongo=ports is None)
    if ports is None:
        db = shell.require_mongo().db
        ports = Ports(MongoNotificationLog(db), MongoContactBook(db), shell.clock())
    client = httpx.AsyncClient(timeout=settings.timeout_seconds)
    channels = ports.channels or {
        "sms": SignedHttpChannel(
            name="sms",
            url=settings.sms_gateway_url,
            secret=settings.sms_gateway_secret.get_secret_value().encode(),
            client=client,
        ),
        "webhook": SignedHttpChannel(
            name="webhook",
            url=settings.webhook_url,
            secret=settings.webhook_secret.get_secret_value().encode(),
            client=client,
        ),
    }
    notifier = Notifier(
        log=ports.log,
        contacts=ports.contacts,
        templates=templates,
        channels=channels,
        publish=shell.publish,
        clock=ports.clock,
        metrics=NotifierMetrics(shell.registry),
        staff_recipient=settings.staff_recipient,
        retry=RetryPolicy(
            max_attempts=settings.max_attempts, base_seconds=settings.backoff_seconds
        ),
        stale_claim=timedelta(seconds=settings.claim_stale_seconds),
    )
    handlers.register(
        shell.broker, notifier=notifier, policy=shell.policy(ports.clock), settings=settings.kafka
    )
    return shell.app(on_startup=[ports.log.ensure_indexes], after_shutdown=[client.aclose])
