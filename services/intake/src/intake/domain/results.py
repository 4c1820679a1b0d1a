"""What intake decides about one raw message: accepted (with contact kept apart) or rejected."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from contracts.complaints import NormalizedComplaint


class RejectReason(StrEnum):
    """Machine-readable reason codes for rejected input (the dead-letter `reason`)."""

    NOT_JSON = "not_json"
    INVALID_UTF8 = "invalid_utf8"
    WRONG_SHAPE = "wrong_shape"
    EMPTY_TEXT = "empty_text"
    UNKNOWN_CHANNEL = "unknown_channel"
    BAD_TIMESTAMP = "bad_timestamp"
    FUTURE_TIMESTAMP = "future_timestamp"
    OVERSIZE = "oversize"
    OPERATOR_KEYS = "operator_keys"
    TOO_DEEP = "too_deep"
    UNKNOWN_FORMAT = "unknown_format"


LATE_CHANNELS: Mapping[str, tuple[timedelta, str]] = {
    "letter": (timedelta(days=30), "post takes days and is opened and keyed in batches"),
    "fax": (timedelta(days=7), "faxes are keyed in by hand"),
    "suggestion_box": (timedelta(days=14), "boxes are emptied weekly at best"),
    "regulator": (timedelta(days=30), "a referral reaches us after the regulator's own handling"),
    "superior": (timedelta(days=30), "a referral from a superior body arrives after its handling"),
}
"""Channels allowed older receipt times than `IntakeLimits.receipt_allowance`, with why."""


@dataclass(frozen=True)
class IntakeLimits:
    """Limits on what intake accepts.

    - `max_bytes`: size of the raw message (256 KiB; an e-mail with its MIME parts must fit).
    - `max_text_chars`: complaint text before normalisation (20 000 characters, ~15 pages).
    - `max_depth`: nesting of JSON objects and arrays (20 levels; real formats use at most 3).
    - `future_tolerance`: how far a timestamp may lie ahead of `now` (clock skew, 10 minutes).
    - `max_age`: how far back a receipt time may lie (366 days; older mail is a data problem).
    - `receipt_allowance`: how far back a channel's receipt time may lie unless `late_channels`
      allows more (72 hours: an HTTP caller or an SMS gateway has no reason to backdate more, and
      a backdated receipt starts clocks that are already overdue).
    - `late_channels`: the channels whose complaints really arrive late, each with its
      allowance and the reason for it (capped by `max_age`).
    """

    max_bytes: int = 256 * 1024
    max_text_chars: int = 20_000
    max_depth: int = 20
    future_tolerance: timedelta = timedelta(minutes=10)
    max_age: timedelta = timedelta(days=366)
    receipt_allowance: timedelta = timedelta(hours=72)
    late_channels: Mapping[str, tuple[timedelta, str]] = field(
        default_factory=lambda: dict(LATE_CHANNELS)
    )

    def allowance(self, channel: str) -> timedelta:
        """How far back `channel`'s receipt time may lie."""
        allowed = self.late_channels.get(channel, (self.receipt_allowance, ""))[0]
        return min(allowed, self.max_age)


@dataclass(frozen=True)
class Contact:
    """Raw contact details, stored only in MongoDB for the notifier."""

    phone_e164: str | None = None
    name: str | None = None
    email: str | None = None
    customer_id: str | None = None
    id_number: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class Accepted:
    """A valid complaint: the masked event, the raw contact, the message as received."""

    complaint: NormalizedComplaint
    contact: Contact
    original: dict[str, Any]
    fingerprint: str


@dataclass(frozen=True)
class Rejected:
    """Invalid input, with a reason code and a detail free of personal data."""

    reason: RejectReason
    detail: str


class RejectError(Exception):
    """Raised inside the domain to abandon a message; `process_raw` turns it into `Rejected`."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail

    def to_rejected(self) -> Rejected:
        """The public value for this error."""
        return Rejected(reason=self.reason, detail=self.detail)
