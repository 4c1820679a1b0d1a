"""One service's side of the hostile-topic suite (tests/topics/test_hostile_topics.py).

The suite sends every corpus entry in one consumed batch between two good messages of its topic,
through the service's real subscription on FastStream's test broker, and checks the dead letters;
a target says which entries, topics and good messages, and what else must hold afterwards.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from types import MappingProxyType
from typing import Any, ClassVar, Protocol

import pytest

from contracts import Topic
from tests._builders.hostile import Entry, ServiceOnBroker


class Running(Protocol):
    """A started service: at least its test-broker rig."""

    @property
    def rig(self) -> ServiceOnBroker: ...


class TopicTarget(ABC):
    """A service whose subscriptions take hostile input."""

    service: str
    bases: ClassVar[Mapping[str, Any]] = MappingProxyType({})
    """Valid events an entry's `base` names (see `tests._builders.hostile.payload`)."""

    @abstractmethod
    def entries(self) -> Sequence[Entry]:
        """Every corpus entry this service is tested with."""

    @abstractmethod
    def topic(self, entry: Entry) -> Topic:
        """The topic the entry travels on."""

    @abstractmethod
    def good(self, entry: Entry) -> tuple[bytes, bytes]:
        """The two good messages around the hostile one."""

    @abstractmethod
    def running(self, monkeypatch: pytest.MonkeyPatch) -> AbstractAsyncContextManager[Any]:
        """The service started on the test broker, with in-memory ports."""

    async def prepare(self, service: Any, entry: Entry) -> None:  # noqa: B027 (optional hook)
        """What must exist before the batch (nothing, unless a target says otherwise)."""

    @abstractmethod
    async def verdict(self, service: Any, entry: Entry, hostile: bytes) -> None:
        """Assert the good messages were handled and the hostile one came to its `expect`."""
