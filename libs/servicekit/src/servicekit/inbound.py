"""A consumed Kafka record detached from the client library, and what a handler says of it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from contracts import ComplaintId


@dataclass(frozen=True)
class Inbound:
    """One consumed Kafka record, detached from the client library."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    timestamp_ms: int
    headers: tuple[tuple[str, bytes], ...] = ()

    @classmethod
    def from_record(cls, record: Any) -> Inbound:
        """Copy the fields we use from an aiokafka ConsumerRecord."""
        return cls(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=record.value if record.value is not None else b"",
            timestamp_ms=record.timestamp,
            headers=tuple((k, bytes(v or b"")) for k, v in record.headers or ()),
        )


@dataclass(frozen=True)
class Rejection:
    """A message the handler refused, with a machine-readable reason."""

    message: Inbound
    reason: str
    detail: str


BatchHandler = Callable[[Sequence[Inbound]], Awaitable[Sequence[Rejection]]]

_COMPLAINT_ID: TypeAdapter[str] = TypeAdapter(ComplaintId)


def complaint_id(message: Inbound) -> str | None:
    """The message's key if it is a complaint id (every topic after intake is keyed by one)."""
    key = text_key(message.key)
    if key is None:
        return None
    try:
        return _COMPLAINT_ID.validate_python(key)
    except ValidationError:
        return None


def text_key(key: bytes | None) -> str | None:
    """The record key as text, if it is UTF-8."""
    if key is None:
        return None
    try:
        return key.decode()
    except UnicodeDecodeError:
        return None
