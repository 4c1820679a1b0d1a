"""The generic JSON format every channel can use (`RawComplaintSubmitted`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from intake.domain.codes import parse_channel
from intake.domain.formats.fields import (
    Submission,
    contact_fields,
    id_field,
    object_field,
    text_field,
    time_value,
    wrong_shape,
)


def _referral(message: Mapping[str, Any]) -> dict[str, str]:
    referral = object_field(message, "referral")
    out: dict[str, str] = {}
    for key, value in referral.items():
        if value is None:
            continue
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise wrong_shape("referral values must be strings")
        out[key] = str(value)
    return out


def read_generic(message: Mapping[str, Any]) -> Submission:
    """{"channel", "external_id", "received_at", "text", "complainant": {…}, …}."""
    if "channel" not in message:
        raise wrong_shape("missing required field 'channel'")
    channel = parse_channel(message["channel"])
    text = text_field(message, "text", required=True) or ""
    complainant = object_field(message, "complainant")
    return Submission(
        channel=channel,
        text=text,
        external_id=id_field(message, "external_id"),
        received_at=time_value(message, "received_at"),
        **contact_fields(complainant),
        referral=_referral(message),
        referral_due=time_value(message, "referral_due_at", "deadline"),
    )
