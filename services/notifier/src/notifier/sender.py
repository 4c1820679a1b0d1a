"""Render and send one delivery (or one digest) with retries; say how it ended."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from contracts import Audience, DeliveryStatus
from notifier.channels.base import (
    Channel,
    Message,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from notifier.domain import Delivery, Recipient, Rendered, TemplateError, Templates
from notifier.metrics import NotifierMetrics
from notifier.ports import Outcome
from servicekit.clock import Clock

log = logging.getLogger(__name__)
Sleep = Callable[[float], Awaitable[None]]
RETRY_LATER = "channel_unavailable"
REPEAT_SAFE = frozenset({"sms", "webhook"})
"""Channels whose provider must drop a repeat of a key it accepted (`Channel`'s contract): what
goes through them is sent before anything is stored, and stored once, with its outcome (ADR
0038). The robots (staff groups) and e-mail keep the claim before the send."""
HTML_CHANNELS = frozenset({"email"})
"""Channels that send the HTML part; for the rest it is not rendered (a third of the work)."""


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded attempts; then, for a channel that is down,
    try again `retry_later` after, until `give_up_after` from the trigger (then dead-letter)."""

    max_attempts: int = 5
    base_seconds: float = 0.5
    cap_seconds: float = 30.0
    retry_later: timedelta = timedelta(seconds=30)
    give_up_after: timedelta = timedelta(hours=6)

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        return random.uniform(0, min(self.cap_seconds, self.base_seconds * 2 ** (attempt - 1)))


@dataclass(frozen=True)
class Attempted:
    """What the attempts at one message came to."""

    status: DeliveryStatus
    attempts: int
    reason: str | None
    transient: bool = False  # failed only because the channel kept failing for now


@dataclass
class Sender:
    """Sends through the configured channels; transient failures are retried with backoff."""

    channels: Mapping[str, Channel]
    templates: Templates
    clock: Clock
    metrics: NotifierMetrics
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Sleep = asyncio.sleep
    repeat_safe: frozenset[str] = REPEAT_SAFE
    """The channels sent through before anything is stored (`sends_first`)."""

    def usable(self, channel: str) -> bool:
        """Whether `channel` is configured in this process."""
        return channel in self.channels

    def sends_first(self, delivery: Delivery) -> bool:
        """Whether `delivery` may be sent before its key is stored: its channel's provider
        drops a repeat of the key, so a resend after a crash (or a race) reaches nobody twice."""
        recipient = delivery.recipient
        return recipient is not None and recipient.channel in self.repeat_safe

    async def send(self, delivery: Delivery) -> Outcome:
        """Render and send one delivery."""
        recipient = delivery.recipient
        if recipient is None:
            customer = delivery.intent.audience is Audience.CUSTOMER
            return self.outcome(
                delivery, "none", Attempted(DeliveryStatus.FAILED, 0, _unreachable(customer))
            )
        try:
            rendered = self.templates.render(
                delivery.intent.template,
                delivery.intent.context,
                html=recipient.channel in HTML_CHANNELS,
            )
        except TemplateError:
            log.exception("template failed", extra={"fields": {"key": delivery.key}})
            failed = Attempted(DeliveryStatus.FAILED, 0, "template_error")
            return self.outcome(delivery, recipient.channel, failed)
        message = _message(delivery.key, delivery, recipient, rendered, delivery.intent.template)
        attempted, after = self._later(delivery, await self._attempt(recipient.channel, message))
        return self.outcome(delivery, recipient.channel, attempted, after)

    async def send_digest(self, deliveries: Sequence[Delivery], template: str) -> list[Outcome]:
        """One message listing every delivery (same recipient); each still gets its outcome."""
        first = deliveries[0]
        recipient = first.recipient
        if recipient is None:
            return [await self.send(d) for d in deliveries]
        try:
            items = [self._item(d) for d in deliveries]
            rendered = self.templates.render(
                template,
                {"count": str(len(deliveries)), "recipient": recipient.id},
                items,
                html=recipient.channel in HTML_CHANNELS,
            )
        except TemplateError:
            log.exception("digest template failed", extra={"fields": {"key": first.key}})
            return [await self.send(d) for d in deliveries]
        key = (
            "digest:"
            + hashlib.sha256("|".join(sorted(d.key for d in deliveries)).encode()).hexdigest()[:24]
        )
        message = _message(key, first, recipient, rendered, template)
        attempted = await self._attempt(recipient.channel, message)
        if attempted.status is DeliveryStatus.DELIVERED:
            self.metrics.digests.labels(recipient.channel).inc()
        return [self.outcome(d, recipient.channel, *self._later(d, attempted)) for d in deliveries]

    def _item(self, delivery: Delivery) -> dict[str, str]:
        rendered = self.templates.render(
            delivery.intent.template, delivery.intent.context, html=False
        )
        case = delivery.intent.complaint_id
        return {
            **delivery.intent.context,
            "case": case,
            "subject": rendered.subject,
            "headline": " ".join(rendered.subject.replace(case, " ").split()),
            "body": rendered.body,
        }

    async def _attempt(self, channel_name: str, message: Message) -> Attempted:
        channel = self.channels.get(channel_name)
        if channel is None:
            return Attempted(DeliveryStatus.FAILED, 0, "channel_not_configured")
        reason: str | None = None
        for attempt in range(1, self.retry.max_attempts + 1):
            self.metrics.attempts.labels(channel.name).inc()
            try:
                await channel.send(message)
            except TransientDeliveryError as exc:
                reason = str(exc)
                if attempt < self.retry.max_attempts:
                    await self.sleep(self.retry.delay(attempt))
                continue
            except PermanentDeliveryError as exc:
                return Attempted(DeliveryStatus.FAILED, attempt, str(exc))
            return Attempted(DeliveryStatus.DELIVERED, attempt, None)
        return Attempted(DeliveryStatus.FAILED, self.retry.max_attempts, reason, transient=True)

    def _later(self, delivery: Delivery, attempted: Attempted) -> tuple[Attempted, datetime | None]:
        """A channel that is down: the message waits and goes again, until it is too old."""
        now = self.clock.now()
        if (
            not attempted.transient
            or now - delivery.intent.trigger_time >= self.retry.give_up_after
        ):
            return attempted, None
        waiting = Attempted(DeliveryStatus.DEFERRED, attempted.attempts, RETRY_LATER)
        return waiting, now + self.retry.retry_later

    def outcome(
        self,
        delivery: Delivery,
        channel: str,
        attempted: Attempted,
        deliver_after: datetime | None = None,
    ) -> Outcome:
        """The outcome, counted in the metrics (and logged, without personal data, if failed)."""
        latency = max(0.0, (self.clock.now() - delivery.intent.trigger_time).total_seconds())
        delivered = attempted.status is DeliveryStatus.DELIVERED
        outcome = Outcome(
            delivery=delivery,
            channel=channel,
            status=attempted.status,
            attempts=attempted.attempts,
            reason=attempted.reason,
            latency_ms=round(latency * 1000, 1) if delivered else None,
            deliver_after=deliver_after,
        )
        self.count(outcome)
        return outcome

    def unsent(
        self, delivery: Delivery, deliver_after: datetime | None, reason: str | None
    ) -> Outcome:
        """The outcome of a delivery decided before any send (not counted: `count` it once it
        is stored): deferred until `deliver_after`, or failed for want of a recipient."""
        recipient = delivery.recipient
        if recipient is None:
            customer = delivery.intent.audience is Audience.CUSTOMER
            attempted = Attempted(DeliveryStatus.FAILED, 0, _unreachable(customer))
            return Outcome(delivery, "none", attempted.status, 0, attempted.reason, None)
        status = DeliveryStatus.DEFERRED
        return Outcome(delivery, recipient.channel, status, 0, reason, None, deliver_after)

    def count(self, outcome: Outcome) -> None:
        """Count an outcome in the metrics (and log a failed one, without personal data)."""
        channel, status = outcome.channel, outcome.status
        audience = outcome.intent.audience.value
        self.metrics.outcomes.labels(channel, audience, status.value).inc()
        if status is DeliveryStatus.DELIVERED and outcome.latency_ms is not None:
            self.metrics.latency.labels(channel, audience).observe(outcome.latency_ms / 1000)
        if status is DeliveryStatus.FAILED:
            log.warning(
                "notification not delivered",
                extra={
                    "fields": {
                        "key": outcome.key,
                        "channel": channel,
                        "attempts": outcome.attempts,
                        "reason": outcome.reason,
                    }
                },
            )


def _unreachable(customer: bool) -> str:
    return "no_contact" if customer else "no_recipient"


def _message(
    key: str, delivery: Delivery, recipient: Recipient, rendered: Rendered, template: str
) -> Message:
    return Message(
        key=key,
        recipient=recipient.id,
        address=recipient.address,
        subject=rendered.subject,
        body=rendered.body,
        html=rendered.html,
        complaint_id=delivery.intent.complaint_id,
        audience=delivery.intent.audience.value,
        template=template,
    )
