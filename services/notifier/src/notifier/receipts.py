"""What the notifier publishes about each delivery: a receipt, and a dead letter if it failed."""

from __future__ import annotations

import json
from datetime import datetime

from contracts import (
    DeliveryStatus,
    MessageDeadLettered,
    NotificationReceipt,
    NotificationSent,
    Topic,
)
from notifier.domain import Origin
from notifier.ports import Outcome
from servicekit.deadletters import PAYLOAD_BOUND, bounded_letter

SERVICE = "notifier"
SOURCE = "/complaints/notifier"


def receipt_for(outcome: Outcome, *, now: datetime) -> NotificationSent:
    """The receipt on notifications.sent.v1 (masked recipient, never the address)."""
    intent = outcome.intent
    data = NotificationReceipt(
        notification_id=outcome.key,
        complaint_id=intent.complaint_id,
        audience=intent.audience,
        channel=outcome.channel,
        template=intent.template,
        acknowledgement=intent.acknowledgement,
        status=outcome.status,
        attempts=outcome.attempts,
        latency_ms=outcome.latency_ms,
        recipient=outcome.recipient,
        reason=outcome.reason,
        deliver_after=outcome.deliver_after,
    )
    return NotificationSent.build(
        data=data,
        subject=intent.complaint_id,
        source=SOURCE,
        time=now,
        cause=receipt_cause(outcome),
    )


def receipt_cause(outcome: Outcome) -> str:
    """Final receipts are caused by the key; each deferral is a receipt of its own."""
    if outcome.status is DeliveryStatus.DEFERRED and outcome.deliver_after is not None:
        return f"{outcome.key}@deferred@{outcome.deliver_after.isoformat(timespec='seconds')}"
    return outcome.key


def needs_dead_letter(outcome: Outcome) -> bool:
    """Failed for good although there was somewhere to send it (no contact on file is data)."""
    return outcome.status is DeliveryStatus.FAILED and outcome.delivery.recipient is not None


def dead_letter_for(outcome: Outcome, *, now: datetime) -> MessageDeadLettered:
    """A dead letter that lets an operator see and replay the notification (no raw address)."""
    intent = outcome.intent
    origin = intent.origin or Origin(Topic.NOTIFICATION_SENT.value, -1, -1)
    spec = {
        "notification_id": outcome.key,
        "complaint_id": intent.complaint_id,
        "audience": intent.audience.value,
        "template": intent.template,
        "channel": outcome.channel,
        "recipient": outcome.recipient,
        "context": intent.context,
        "trigger_time": intent.trigger_time.isoformat(),
    }
    data = bounded_letter(  # the context may quote long texts: the record must fit the broker
        service=SERVICE,
        reason="notification_failed",
        detail=outcome.reason or "failed",
        topic=origin.topic,
        partition=origin.partition,
        offset=origin.offset,
        key=intent.complaint_id,
        payload=json.dumps(spec, ensure_ascii=False).encode(),
        attempts=outcome.attempts,
        payload_bound=PAYLOAD_BOUND,
    )
    return MessageDeadLettered.build(
        data=data,
        subject=intent.complaint_id,
        source=SOURCE,
        time=now,
        cause=f"{outcome.key}@dead",
    )
