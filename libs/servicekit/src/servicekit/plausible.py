"""Times in consumed events must lie where the pipeline can compute with them.

An event from another service always carries times within days of now; one dated in year 1 or
9999 is hostile or broken, and the date arithmetic done on it (business calendars, windows,
local display) would overflow. Consumers reject such events with a reason instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TypeVar

from pydantic import BaseModel

from contracts import Event
from servicekit.delivery import Inbound, Rejection, decode

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
"""Every time in a consumed event lies in [EARLIEST, LATEST)."""

E = TypeVar("E", bound=Event)


def implausible_time(model: BaseModel) -> str | None:
    """The field path of a time in `model` (at any depth) outside [EARLIEST, LATEST), if any."""
    stack: list[tuple[str, object]] = [("", model)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, datetime):
            if not EARLIEST <= node < LATEST:
                return path
        elif isinstance(node, BaseModel):
            stack.extend(
                (f"{path}.{name}" if path else name, getattr(node, name))
                for name in type(node).model_fields
            )
        elif isinstance(node, list | tuple):
            stack.extend(
                (f"{path}[{index}]", item)
                for index, item in enumerate(node)
                if isinstance(item, BaseModel | datetime)
            )
    return None


def out_of_range(path: str) -> str:
    """The rejection detail for a time at `path` outside the range."""
    return f"{path} lies outside {EARLIEST:%Y-%m-%d} .. {LATEST:%Y-%m-%d}"


def decode_plausible(
    messages: Sequence[Inbound], event_type: type[E]
) -> tuple[list[E], list[Rejection]]:
    """`decode`, and reject as `implausible_time` an event with a time outside the range."""
    events: list[E] = []
    rejections: list[Rejection] = []
    for message in messages:
        decoded, invalid = decode([message], event_type)
        rejections += invalid
        for event in decoded:
            if (path := implausible_time(event)) is not None:
                rejections.append(Rejection(message, "implausible_time", out_of_range(path)))
            else:
                events.append(event)
    return events, rejections
