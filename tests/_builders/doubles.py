"""Test doubles shared by the handler tests: a publisher that collects and can fail like Kafka."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

from contracts import Event

E = TypeVar("E", bound=Event)


class FlakyPublisher(Generic[E]):
    """Collects published events of one type; `failures` makes the next calls fail like Kafka."""

    def __init__(self, event_type: type[E]) -> None:
        self.event_type = event_type
        self.events: list[E] = []
        self.failures = 0

    async def __call__(self, events: Sequence[Event]) -> None:
        if self.failures:
            self.failures -= 1
            raise TimeoutError("kafka unavailable")
        for event in events:
            assert isinstance(event, self.event_type), type(event).__name__
            self.events.append(event)
