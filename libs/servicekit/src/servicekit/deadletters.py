"""Dead-letter records that always fit the producer, and errors that are the message's own fault.

A dead-letter record must never fail on size: if it did, the batch it belongs to could not be
committed and would be redelivered forever. So the original bytes are kept only up to a bound;
beyond it the record carries their SHA-256 digest, their length and their coordinates (topic,
partition, offset), from which an operator finds them in the source topic.
"""

from __future__ import annotations

import base64
import hashlib

from aiokafka.errors import MessageSizeTooLargeError
from pymongo.errors import DocumentTooLarge, OperationFailure

from contracts import DeadLetter

PAYLOAD_BOUND = 64 * 1024
"""Default largest original kept whole: far below the producer's 1 MiB `max_request_size`,
even base64-encoded (4/3) and wrapped in the envelope."""

DETAIL_BOUND = 1000
"""Largest `detail` kept (it is built by the services, but may quote an exception text)."""

KEY_BOUND = 256
"""Largest original key kept; longer keys are not ids and are left out."""

# Server error codes for a document over the database's own limit (BSONObjectTooLarge, and
# "resulting document after update is larger than …").
_TOO_LARGE_CODES = frozenset({10334, 17419, 17420})


class UnprocessableError(Exception):
    """A message that can never succeed as it is: rejected at once with its reason, no retries."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def poison(exc: BaseException, service: str) -> UnprocessableError | None:
    """The rejection an exception means when no retry can cure it (None: it might pass later)."""
    if isinstance(exc, UnprocessableError):
        return exc
    if isinstance(exc, DocumentTooLarge) or (
        isinstance(exc, OperationFailure) and exc.code in _TOO_LARGE_CODES
    ):
        return UnprocessableError(
            "oversized_document", f"{service}: the document to store exceeds the database's limit"
        )
    if isinstance(exc, MessageSizeTooLargeError):
        return UnprocessableError(
            "oversized_event", f"{service}: the event to publish exceeds the broker's limit"
        )
    return None


def bounded_letter(
    *,
    service: str,
    reason: str,
    detail: str,
    topic: str,
    partition: int,
    offset: int,
    key: str | None,
    payload: bytes,
    attempts: int,
    payload_bound: int,
) -> DeadLetter:
    """A dead-letter record keeping `payload` whole only up to `payload_bound` bytes."""
    kept = len(payload) <= payload_bound
    return DeadLetter(
        service=service,
        reason=reason,
        detail=detail[:DETAIL_BOUND],
        original_topic=topic,
        partition=partition,
        offset=offset,
        key=key if key is None or len(key) <= KEY_BOUND else None,
        payload_base64=base64.b64encode(payload).decode() if kept else "",
        payload_omitted=not kept,
        payload_sha256=hashlib.sha256(payload).hexdigest(),
        payload_length=len(payload),
        attempts=attempts,
    )


def without_payload(letter: DeadLetter) -> DeadLetter:
    """The same record with the original bytes left out (their digest and length stay)."""
    return letter.model_copy(update={"payload_base64": "", "payload_omitted": True, "key": None})
