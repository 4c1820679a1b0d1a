"""The notifier use-case: decide, claim, render, send with retries, record, publish receipts."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from contracts import (
    Audience,
    ComplaintClassified,
    DeliveryStatus,
    Event,
    NotificationReceipt,
    NotificationSent,
    SlaChanged,
)
from notifier.channels.base import (
    Channel,
    Message,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from notifier.domain import Intent, Templates, acknowledgement_for_non_complaint, intents_for_sla
from notifier.metrics import NotifierMetrics
from notifier.ports import ContactBook, NotificationLog, Outcome
from servicekit.clock import Clock
from servicekit.delivery import Inbound, Rejection, decode

log = logging.getLogger(__name__)
Publish = Callable[[Sequence[Event]], Awaitable[None]]
SOURCE = "/complaints/notifier"


def mask_phone(phone: str) -> str:
    """+8613812345678 → +86138****5678."""
    return phone[:-8] + "****" + phone[-4:] if len(phone) > 8 else "****"


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded attempts."""

    max_attempts: int = 5
    base_seconds: float = 0.5
    cap_seconds: float = 30.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        return random.uniform(0, min(self.cap_seconds, self.base_seconds * 2 ** (attempt - 1)))


@dataclass
class Notifier:
    """Tells each audience once: the notification key is claimed before anything is sent."""

    log: NotificationLog
    contacts: ContactBook
    templates: Templates
    channels: Mapping[str, Channel]
    publish: Publish
    clock: Clock
    metrics: NotifierMetrics
    staff_recipient: str
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    stale_claim: timedelta = timedelta(minutes=2)
    concurrency: int = 32

    async def on_classified(self, messages: Sequence[Inbound]) -> list[Rejection]:
        """Acknowledge enquiries and routed reports (complaints are acknowledged with clocks)."""
        events, rejections = decode(messages, ComplaintClassified)
        intents = [
            intent
            for event in events
            if (intent := acknowledgement_for_non_complaint(event.data, at=event.time)) is not None
        ]
        await self.deliver(intents)
        return rejections

    async def on_sla(self, messages: Sequence[Inbound]) -> list[Rejection]:
        """Acknowledge complaints with their promised time; alert staff on warnings and breaches."""
        events, rejections = decode(messages, SlaChanged)
        intents = [i for event in events for i in intents_for_sla(event.data, at=event.time)]
        await self.deliver(intents)
        return rejections

    async def deliver(self, intents: Sequence[Intent]) -> None:
        """Claim, send concurrently, record, then publish receipts (also ones a crash left)."""
        now = self.clock.now()
        claimed = await self.log.claim(intents, now=now, stale_before=now - self.stale_claim)
        claimed_keys = {i.key for i in claimed}
        others = [key for key in dict.fromkeys(i.key for i in intents) if key not in claimed_keys]
        self.metrics.suppressed.inc(len(others))
        leftovers = await self.log.unreceipted(others)
        outcomes: list[Outcome] = []
        if claimed:
            phones = await self.contacts.phones(
                [i.complaint_id for i in claimed if i.audience is Audience.CUSTOMER]
            )
            gate = asyncio.Semaphore(self.concurrency)

            async def bounded(intent: Intent) -> Outcome:
                async with gate:
                    return await self._send(intent, phones.get(intent.complaint_id))

            outcomes = list(await asyncio.gather(*(bounded(i) for i in claimed)))
            await self.log.complete(outcomes, now=self.clock.now())
        finished = [*outcomes, *leftovers]
        await self.publish([self._receipt(o) for o in finished])
        await self.log.mark_receipted([o.intent.key for o in finished])

    async def _send(self, intent: Intent, phone: str | None) -> Outcome:
        if intent.audience is Audience.CUSTOMER:
            if phone is None:
                return Outcome(
                    intent, "sms", DeliveryStatus.FAILED.value, 0, None, "no_contact", None
                )
            channel, recipient, shown = self.channels["sms"], phone, mask_phone(phone)
        else:
            channel = self.channels["webhook"]
            recipient = shown = f"{intent.audience.value}:{self.staff_recipient}"
        rendered = self.templates.render(intent.template, intent.context)
        message = Message(
            key=intent.key,
            recipient=recipient,
            subject=rendered.subject,
            body=rendered.body,
            complaint_id=intent.complaint_id,
            audience=intent.audience.value,
            template=intent.template,
        )
        reason: str | None = None
        for attempt in range(1, self.retry.max_attempts + 1):
            self.metrics.attempts.labels(channel.name).inc()
            try:
                await channel.send(message)
            except TransientDeliveryError as exc:
                reason = str(exc)
                if attempt < self.retry.max_attempts:
                    await asyncio.sleep(self.retry.delay(attempt))
                continue
            except PermanentDeliveryError as exc:
                return self._outcome(
                    intent=intent,
                    channel=channel.name,
                    recipient=shown,
                    status=DeliveryStatus.FAILED,
                    attempts=attempt,
                    reason=str(exc),
                )
            return self._outcome(
                intent=intent,
                channel=channel.name,
                recipient=shown,
                status=DeliveryStatus.DELIVERED,
                attempts=attempt,
                reason=None,
            )
        return self._outcome(
            intent=intent,
            channel=channel.name,
            recipient=shown,
            status=DeliveryStatus.FAILED,
            attempts=self.retry.max_attempts,
            reason=reason,
        )

    def _outcome(
        self,
        *,
        intent: Intent,
        channel: str,
        status: DeliveryStatus,
        attempts: int,
        recipient: str,
        reason: str | None,
    ) -> Outcome:
        latency = (self.clock.now() - intent.trigger_time).total_seconds()
        self.metrics.outcomes.labels(channel, intent.audience.value, status.value).inc()
        if status is not DeliveryStatus.DELIVERED:
            log.warning(
                "notification not delivered",
                extra={
                    "fields": {
                        "key": intent.key,
                        "channel": channel,
                        "status": status.value,
                        "attempts": attempts,
                        "reason": reason,
                    }
                },
            )
        if status is DeliveryStatus.DELIVERED:
            self.metrics.latency.labels(channel).observe(max(0.0, latency))
        return Outcome(
            intent, channel, status.value, attempts, recipient, reason, round(latency * 1000, 1)
        )

    def _receipt(self, outcome: Outcome) -> NotificationSent:
        intent = outcome.intent
        data = NotificationReceipt(
            notification_id=intent.key,
            complaint_id=intent.complaint_id,
            audience=intent.audience,
            channel=outcome.channel,
            template=intent.template,
            status=DeliveryStatus(outcome.status),
            attempts=outcome.attempts,
            latency_ms=outcome.latency_ms,
            recipient=outcome.recipient,
            reason=outcome.reason,
        )
        return NotificationSent.build(
            data=data,
            subject=intent.complaint_id,
            source=SOURCE,
            time=self.clock.now(),
            cause=intent.key,
        )
