"""From raw bytes to an accepted, normalised and masked complaint, or a reasoned rejection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from contracts.complaints import MaskedComplainant, NormalizedComplaint
from intake.domain.codes import parse_tier
from intake.domain.fingerprint import fingerprint
from intake.domain.formats import Submission, read_submission
from intake.domain.identity import complainant_key_for, complaint_id_for
from intake.domain.masking import mask_name, mask_phone, mask_text
from intake.domain.normalisation import has_no_text, normalise_text, to_simplified
from intake.domain.payload import decode_payload
from intake.domain.phones import phone_from_note, to_e164
from intake.domain.results import (
    Accepted,
    Contact,
    IntakeLimits,
    Rejected,
    RejectError,
    RejectReason,
)
from intake.domain.timestamps import TimestampError, end_of_day, local_display, parse_time

DEFAULT_LIMITS = IntakeLimits()
"""The documented limits (see `IntakeLimits`)."""
_MAX_FIELD_CHARS = 1_000
_MAX_REFERRAL_DAYS = 366


def _received_at(submission: Submission, *, now: datetime, limits: IntakeLimits) -> datetime:
    if submission.received_at is None:
        return now.astimezone(UTC)
    try:
        moment = parse_time(submission.received_at)
    except TimestampError:
        if not submission.received_at_trusted:
            return now.astimezone(UTC)
        raise RejectError(RejectReason.BAD_TIMESTAMP, "receipt time cannot be read") from None
    if moment > now + limits.future_tolerance:
        if not submission.received_at_trusted:
            return now.astimezone(UTC)
        raise RejectError(RejectReason.FUTURE_TIMESTAMP, "receipt time lies in the future")
    allowance = limits.allowance(submission.channel.value)
    if moment < now - allowance:
        if not submission.received_at_trusted:
            return now.astimezone(UTC)
        hours = round(allowance.total_seconds() / 3600)
        raise RejectError(
            RejectReason.BAD_TIMESTAMP,
            f"receipt time is more than {hours} h back, the most the "
            f"{submission.channel.value} channel allows",
        )
    return moment.astimezone(UTC)


def _referral_due(submission: Submission, *, received_at: datetime) -> datetime | None:
    if submission.referral_due_days is not None:
        if not 0 < submission.referral_due_days <= _MAX_REFERRAL_DAYS:
            raise RejectError(RejectReason.BAD_TIMESTAMP, "deadline days out of range")
        return received_at + timedelta(days=submission.referral_due_days)
    if submission.referral_due is None:
        return None
    try:
        due = end_of_day(submission.referral_due)
    except TimestampError:
        raise RejectError(RejectReason.BAD_TIMESTAMP, "referral deadline cannot be read") from None
    if abs(due - received_at) > timedelta(days=_MAX_REFERRAL_DAYS):
        raise RejectError(RejectReason.BAD_TIMESTAMP, "referral deadline is implausibly far")
    return due.astimezone(UTC)


def _clean_field(value: str | None) -> str | None:
    if value is None:
        return None
    if len(value) > _MAX_FIELD_CHARS:
        raise RejectError(
            RejectReason.OVERSIZE, f"a contact field exceeds {_MAX_FIELD_CHARS} chars"
        )
    cleaned = normalise_text(value).replace("\n", " ")
    return cleaned or None


def _contact(submission: Submission, *, text: str) -> Contact:
    phone = to_e164(_clean_field(submission.phone))
    if phone is None and submission.phone_in_text:
        phone = phone_from_note(text)
    id_number = _clean_field(submission.id_number)
    return Contact(
        phone_e164=phone,
        name=_clean_field(submission.name),
        email=_clean_field(submission.email),
        customer_id=_clean_field(submission.customer_id),
        id_number=id_number.upper() if id_number else None,
        address=_clean_field(submission.address),
    )


def _accept(
    submission: Submission,
    *,
    payload: bytes,
    original: dict[str, Any],
    now: datetime,
    secret: bytes,
    limits: IntakeLimits,
) -> Accepted:
    if len(submission.text) > limits.max_text_chars:
        raise RejectError(RejectReason.OVERSIZE, f"text exceeds {limits.max_text_chars} chars")
    text = normalise_text(submission.text)
    if has_no_text(text):
        raise RejectError(RejectReason.EMPTY_TEXT, "complaint text is empty")
    received_at = _received_at(submission, now=now, limits=limits)
    contact = _contact(submission, text=text)
    external_id = _clean_field(submission.external_id)
    masked = mask_text(text)
    # Masking again after conversion catches cues that only match in Simplified spelling.
    masked_simplified = mask_text(to_simplified(masked))
    complaint = NormalizedComplaint(
        complaint_id=complaint_id_for(
            channel=submission.channel.value,
            external_id=external_id,
            payload=payload,
            received_at=received_at,
        ),
        channel=submission.channel,
        external_id=external_id,
        received_at=received_at,
        received_at_local=local_display(received_at),
        text=masked,
        text_simplified=masked_simplified,
        complainant_key=complainant_key_for(
            phone_e164=contact.phone_e164, customer_id=contact.customer_id, secret=secret
        ),
        complainant=MaskedComplainant(
            name=mask_name(contact.name),
            phone=mask_phone(contact.phone_e164),
            tier=parse_tier(submission.tier),
            has_phone=contact.phone_e164 is not None,
            has_email=contact.email is not None,
        ),
        referral={key: normalise_text(value) for key, value in submission.referral.items()},
        referral_due_at=_referral_due(submission, received_at=received_at),
    )
    return Accepted(
        complaint=complaint,
        contact=contact,
        original=original,
        fingerprint=fingerprint(masked_simplified),
    )


def process_raw(
    payload: bytes, *, now: datetime, secret: bytes, limits: IntakeLimits = DEFAULT_LIMITS
) -> Accepted | Rejected:
    """Validate, normalise and mask one raw message; never raises on any payload."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    try:
        original = decode_payload(payload, limits=limits)
        submission = read_submission(original)
        return _accept(
            submission, payload=payload, original=original, now=now, secret=secret, limits=limits
        )
    except RejectError as error:
        return error.to_rejected()
    except Exception as error:  # a reader bug must not stop the partition; the DLQ keeps it
        return Rejected(
            reason=RejectReason.WRONG_SHAPE,
            detail=f"message could not be read ({type(error).__name__})",
        )
