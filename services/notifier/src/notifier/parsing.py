"""Where each decoded event of a batch came from (the subscription decoded and checked it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from notifier.domain import Origin
from servicekit.bodies import Received

T = TypeVar("T")


def with_origins(messages: Sequence[Received[T]]) -> list[tuple[T, Origin]]:
    """Each record's body with its topic, partition and offset."""
    return [(m.body, Origin(m.topic, m.partition, m.offset)) for m in messages]
