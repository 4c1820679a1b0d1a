"""Short-message channels: hotline agent notes and SMS."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts.values import Channel
from intake.domain.formats.fields import Submission, id_field, text_field, time_value


def read_hotline_note(message: Mapping[str, Any]) -> Submission:
    """An agent's note on a call: agent id, call id, caller number, free text (客户来电反映…).

    Fields: `call_id` (external id), `agent_id`, `caller_number` | `phone`, `note` | `text`,
    `called_at` | `received_at`, `customer_name`, `customer_id`, `tier`. A number the agent
    wrote after 来电号码 / 联系电话 stands in for a missing caller number.
    """
    return Submission(
        channel=Channel.HOTLINE,
        text=text_field(message, "note", "text", required=True) or "",
        external_id=id_field(message, "call_id", "external_id"),
        received_at=time_value(message, "called_at", "received_at"),
        phone=id_field(message, "caller_number", "phone", "ani"),
        name=text_field(message, "customer_name", "name"),
        customer_id=id_field(message, "customer_id", "account"),
        tier=text_field(message, "tier", "customer_tier"),
        phone_in_text=True,
    )


def read_sms(message: Mapping[str, Any]) -> Submission:
    """An SMS from the gateway: `sender` | `from`, `body` | `text`, `timestamp`, `message_id`."""
    return Submission(
        channel=Channel.SMS,
        text=text_field(message, "body", "text", "content", required=True) or "",
        external_id=id_field(message, "message_id", "msg_id", "external_id"),
        received_at=time_value(message, "gateway_timestamp", "timestamp", "received_at", "sent_at"),
        phone=id_field(message, "sender", "from", "phone"),
        customer_id=id_field(message, "customer_id"),
        tier=text_field(message, "tier", "customer_tier"),
    )
