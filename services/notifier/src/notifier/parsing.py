"""Reading a batch of inbound events: what does not parse, or is dated implausibly, is rejected."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from notifier.domain import Origin
from servicekit.delivery import Inbound, Rejection
from servicekit.plausible import implausible_time, out_of_range

T = TypeVar("T")


def parse(
    messages: Sequence[Inbound], adapter: TypeAdapter[T], name: str
) -> tuple[list[tuple[T, Origin]], list[Rejection]]:
    """Parse each message; what does not parse becomes `invalid_event` (dead-lettered), and
    an event dated outside the pipeline's time range `implausible_time`."""
    parsed: list[tuple[T, Origin]] = []
    rejections: list[Rejection] = []
    for message in messages:
        try:
            event = adapter.validate_json(message.value)
        except ValidationError as exc:
            detail = f"not a {name}: {exc.error_count()} validation errors"
            rejections.append(Rejection(message, "invalid_event", detail))
            continue
        if isinstance(event, BaseModel) and (path := implausible_time(event)) is not None:
            rejections.append(Rejection(message, "implausible_time", out_of_range(path)))
            continue
        parsed.append((event, Origin(message.topic, message.partition, message.offset)))
    return parsed, rejections
