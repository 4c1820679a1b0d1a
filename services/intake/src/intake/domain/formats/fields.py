"""Typed reads of fields from a parsed message, and the shape every format is turned into."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

from contracts.values import Channel
from intake.domain.results import RejectError, RejectReason


@dataclass(frozen=True)
class Submission:
    """What a channel format says, before normalisation: one shape for every format."""

    channel: Channel
    text: str
    external_id: str | None = None
    received_at: object = None
    received_at_trusted: bool = True
    """False for a sender's own clock (an e-mail Date header): if unusable, use the intake time."""
    phone: str | None = None
    name: str | None = None
    email: str | None = None
    customer_id: str | None = None
    id_number: str | None = None
    address: str | None = None
    tier: str | None = None
    referral: dict[str, str] = field(default_factory=dict)
    referral_due: object = None
    referral_due_days: int | None = None
    """A deadline given as days after receipt ("15日内答复") instead of a date."""
    phone_in_text: bool = False
    """Whether a contact number an agent wrote in the text may stand in for a missing phone."""


def wrong_shape(detail: str) -> RejectError:
    """The error for a field of the wrong type or a missing required field."""
    return RejectError(RejectReason.WRONG_SHAPE, detail)


def text_field(message: Mapping[str, Any], *names: str, required: bool = False) -> str | None:
    """The first of `names` present with a non-null value; it must be a string."""
    for name in names:
        value = message.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise wrong_shape(f"field {name!r} must be a string, got {type(value).__name__}")
        return value
    if required:
        raise wrong_shape(f"missing required field {names[0]!r}")
    return None


def id_field(message: Mapping[str, Any], *names: str) -> str | None:
    """An identifier: a string, or an integer that channels often send for ids and numbers."""
    for name in names:
        value = message.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise wrong_shape(f"field {name!r} must be a string or integer")
        text = str(value).strip()
        return text or None
    return None


def object_field(message: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """A nested object, or an empty one when absent or null."""
    value = message.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise wrong_shape(f"field {name!r} must be an object, got {type(value).__name__}")
    return value


class ContactFields(TypedDict):
    """Contact details as read from a `complainant` object."""

    phone: str | None
    name: str | None
    email: str | None
    customer_id: str | None
    id_number: str | None
    address: str | None
    tier: str | None


def contact_fields(complainant: Mapping[str, Any]) -> ContactFields:
    """The contact details every format reads from a `complainant` object."""
    return {
        "phone": id_field(complainant, "phone"),
        "name": text_field(complainant, "name"),
        "email": text_field(complainant, "email"),
        "customer_id": id_field(complainant, "customer_id"),
        "id_number": id_field(complainant, "id_number"),
        "address": text_field(complainant, "address"),
        "tier": text_field(complainant, "tier"),
    }


def time_value(message: Mapping[str, Any], *names: str) -> object:
    """The raw value of the first time field present (checked later by the time parser)."""
    for name in names:
        value = message.get(name)
        if value is not None:
            return value
    return None


def join_text(*parts: str | None) -> str:
    """Non-empty parts joined by newlines (subject and body, summary and detail)."""
    return "\n".join(part for part in parts if part and part.strip())
