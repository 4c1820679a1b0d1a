"""Assembly of the notifier service."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from faststream.asgi import AsgiFastStream
from pydantic import SecretStr

from notifier import handlers
from notifier.adapters.memory import InMemoryCaseBook, InMemoryIncidentBook, InMemoryStaffDirectory
from notifier.adapters.mongo import MongoNotificationLog
from notifier.adapters.mongo_incidents import MongoIncidentBook
from notifier.adapters.mongo_recipients import (
    MongoCaseBook,
    MongoContactBook,
    MongoStaffDirectory,
)
from notifier.channels.base import Channel
from notifier.channels.http import SignedHttpChannel
from notifier.channels.robots import DingTalkRobotChannel, WeComRobotChannel
from notifier.channels.smtp import SmtpChannel
from notifier.channels.wire import HttpClient
from notifier.dispatcher import Dispatcher
from notifier.domain import (
    NotifierPolicy,
    Planner,
    PolicyError,
    Router,
    StaffEntry,
    TemplateError,
    parse_directory,
)
from notifier.metrics import NotifierMetrics
from notifier.ports import CaseBook, ContactBook, IncidentBook, NotificationLog, StaffDirectory
from notifier.sender import RetryPolicy, Sender
from notifier.service import Notifier
from notifier.settings import NotifierSettings
from servicekit.clock import Clock
from servicekit.packfile import read_yaml
from servicekit.shell import ServiceShell

SERVICE = "notifier"
SENDING_LOOPS = 5
"""What sends concurrently: the handlers of the four topics and the dispatcher."""


@dataclass
class Ports:
    """Outside-world adapters; tests pass in-memory ones (unset ones default to memory)."""

    log: NotificationLog
    contacts: ContactBook
    clock: Clock
    channels: dict[str, Channel] | None = None
    staff: StaffDirectory | None = None
    cases: CaseBook | None = None
    incidents: IncidentBook | None = None


_PACK_ERRORS = (PolicyError, TemplateError, ValueError, TypeError, KeyError, AttributeError)


def _yaml(path: Path) -> dict[str, Any]:
    """A pack file's top-level mapping; any problem is a `PolicyError` naming the file."""
    data = read_yaml(path, PolicyError)
    if not isinstance(data, dict | None):
        raise PolicyError(f"{path}: expected a mapping at the top level")
    return data or {}


def _naming(path: Path, exc: Exception) -> PolicyError:
    message = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
    return PolicyError(f"{path}: {message}")


def load_policy(settings: NotifierSettings) -> NotifierPolicy:
    """The pack's notifier section (a bad pack fails at start), with the quiet-hour override."""
    path = settings.policy_dir / settings.policy_pack / "notifier.yaml"
    raw = _yaml(path)
    try:
        policy = NotifierPolicy.from_mapping(raw)
    except _PACK_ERRORS as exc:
        raise _naming(path, exc) from exc
    return policy.with_quiet_hours(settings.quiet_hours)


def load_directory(settings: NotifierSettings) -> list[StaffEntry]:
    """The pack's staff.yaml, if it has one."""
    path = settings.policy_dir / settings.policy_pack / "staff.yaml"
    if not path.exists():
        return []
    recipients = _yaml(path).get("recipients") or []
    try:
        if not isinstance(recipients, list):
            raise PolicyError("`recipients` must be a list")
        return parse_directory(recipients)
    except _PACK_ERRORS as exc:
        raise _naming(path, exc) from exc


def build_channels(settings: NotifierSettings, client: HttpClient) -> dict[str, Channel]:
    """Every channel the settings configure."""
    channels: dict[str, Channel] = {
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
    if settings.smtp_host:
        channels["email"] = SmtpChannel(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_sender,
            starttls=settings.smtp_starttls,
            implicit_tls=settings.smtp_implicit_tls,
            username=settings.smtp_user or None,
            password=_secret(settings.smtp_password),
            timeout=settings.timeout_seconds,
            tls_context=(
                ssl.create_default_context(cafile=settings.smtp_ca_file)
                if settings.smtp_ca_file
                else None
            ),
        )
    if settings.wecom_key:
        channels["wecom"] = WeComRobotChannel(
            url=settings.wecom_url, key=settings.wecom_key.get_secret_value(), client=client
        )
    if settings.dingtalk_access_token:
        channels["dingtalk"] = DingTalkRobotChannel(
            url=settings.dingtalk_url,
            access_token=settings.dingtalk_access_token.get_secret_value(),
            secret=_secret(settings.dingtalk_secret),
            client=client,
        )
    return channels


def _secret(value: SecretStr | None) -> str | None:
    """The secret's text; an unset or empty one (compose's `${X:-}`) is None."""
    if value is None:
        return None
    return value.get_secret_value() or None


def create_app(settings: NotifierSettings, ports: Ports | None = None) -> AsgiFastStream:
    """Build the notifier app: a Kafka consumer plus the dispatcher loop for waiting messages."""
    policy = load_policy(settings)
    directory = load_directory(settings)
    shell = ServiceShell(service=SERVICE, settings=settings, with_mongo=ports is None)
    if ports is None:
        db = shell.require_mongo().db
        clock = shell.clock()
        staff: StaffDirectory = (
            MongoStaffDirectory(db, static=directory, clock=clock)
            if settings.staff_collection
            else InMemoryStaffDirectory(directory)
        )
        ports = Ports(
            MongoNotificationLog(db),
            MongoContactBook(db),
            clock,
            staff=staff,
            cases=MongoCaseBook(db),
            incidents=MongoIncidentBook(db),
        )
    # Every connection the sends may hold at once stays open for the next (a burst of 32 that
    # closed and reopened connections each time was a profiled top cost). The four topics'
    # handlers and the dispatcher each send up to `concurrency` at once, often to one origin:
    # kept at 32, the connections beyond it were closed and reopened (session 10's profile).
    client = HttpClient(
        timeout=settings.timeout_seconds, max_idle=Notifier.concurrency * SENDING_LOOPS
    )
    metrics = NotifierMetrics(shell.registry)
    # Leases are business time on the service clock; a demo's scaled clock runs faster.
    lease = timedelta(seconds=settings.claim_stale_seconds * settings.time_scale)
    notifier = Notifier(
        router=Router(policy),
        log=ports.log,
        contacts=ports.contacts,
        staff=ports.staff or InMemoryStaffDirectory(directory),
        cases=ports.cases or InMemoryCaseBook(),
        sender=Sender(
            channels=ports.channels or build_channels(settings, client),
            templates=policy.templates,
            clock=ports.clock,
            metrics=metrics,
            retry=RetryPolicy(
                max_attempts=settings.max_attempts,
                base_seconds=settings.backoff_seconds,
                cap_seconds=settings.backoff_cap_seconds,
                retry_later=timedelta(seconds=settings.retry_later_seconds),
                give_up_after=timedelta(hours=settings.give_up_after_hours),
            ),
        ),
        planner=Planner(policy),
        publish=shell.publish,
        clock=ports.clock,
        metrics=metrics,
        fallback_recipient=settings.staff_recipient,
        claim_lease=lease,
        renew_every=settings.claim_stale_seconds / 3,  # real seconds, whatever the clock's scale
        digest_template=policy.digest.template if policy.digest else "staff_digest",
        incidents=ports.incidents or InMemoryIncidentBook(),
    )
    dispatcher = Dispatcher(
        notifier=notifier,
        log=ports.log,
        clock=ports.clock,
        lease=lease,
        batch=settings.dispatch_batch,
        max_sleep=settings.dispatch_max_sleep_seconds,
        time_scale=settings.time_scale,
    )
    notifier.wake = dispatcher.wake
    handlers.register(
        shell.broker,
        notifier=notifier,
        policy=shell.policy(ports.clock),
        settings=settings.kafka,
        verifier=shell.verifier,
    )

    return shell.app(
        on_startup=[ports.log.ensure_indexes],
        background=[("notifier-dispatcher", dispatcher.run_forever)],
        after_shutdown=[client.aclose],
    )
