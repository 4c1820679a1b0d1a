"""Delivery receipts published by the notifier."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from contracts.envelope import Event, Model
from contracts.topics import Topic
from contracts.values import Audience, ComplaintId


class DeliveryStatus(StrEnum):
    """Outcome of one notification."""

    DELIVERED = "delivered"
    FAILED = "failed"
    DEFERRED = "deferred"


class NotificationReceipt(Model):
    """What became of one notification."""

    schema_version: Literal[1] = Field(1, description="Version of this data schema.")
    notification_id: str = Field(
        description="Idempotency key: complaint:kind:clock:level:audience; never sent twice."
    )
    complaint_id: ComplaintId
    audience: Audience
    channel: str = Field(description="Delivery channel: sms, email, webhook, wecom, dingtalk.")
    template: str = Field(description="Template id used to render the message.")
    acknowledgement: bool = Field(
        False,
        description="The customer's acknowledgement of the complaint: once delivered it meets "
        "the acknowledge clock (what a receipt is for is said here, not by the template name).",
    )
    status: DeliveryStatus
    attempts: int = Field(ge=0, description="Delivery attempts made.")
    latency_ms: float | None = Field(None, description="Trigger event time to delivery, in ms.")
    recipient: str | None = Field(None, description="Masked recipient.")
    reason: str | None = Field(None, description="Why it failed or was deferred.")
    deliver_after: AwareDatetime | None = Field(None, description="For deferred: when it goes.")


class NotificationSent(Event):
    """A notification was delivered, failed for good, or deferred."""

    topic: ClassVar[Topic] = Topic.NOTIFICATION_SENT
    type: Literal["cn.complaints.notification.v1"] = "cn.complaints.notification.v1"
    data: NotificationReceipt
