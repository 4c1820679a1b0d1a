"""Whether a service's consumers own their partitions yet: the readiness the pipeline feeds on.

A process whose broker answers can still be seconds away from consuming: each consumer must join
its group and be given partitions first, and the consumers of one group (the SLA's three topics
share `sla`) revoke each other's partitions while the next one joins. `/readyz` waits until all
of them hold their assignment at the same moment (issue 15), so a bench or demo that starts
feeding at "ready" is not measuring group joins, and an orchestrator rolling replicas waits for
the new one to take its share. After that, readiness stays: a later rebalance hands partitions
on within seconds, and it would take every replica's HTTP API out of service at once.
"""

from __future__ import annotations

import logging
from collections.abc import Set
from typing import Any

from aiokafka import ConsumerRebalanceListener

log = logging.getLogger(__name__)


class Assignments:
    """The consumers of one process without their partitions, until all held them at once."""

    def __init__(self) -> None:
        self._waiting: set[str] = set()
        self._settled = False

    def listener(self, consumer: str) -> ConsumerRebalanceListener:
        """A rebalance listener for `consumer`, which counts as waiting until it is assigned."""
        self._waiting.add(consumer)
        self._settled = False
        return _Joined(self, consumer)

    def assigned(self, consumer: str) -> None:
        """`consumer`'s group gave it its partitions (possibly none: more replicas than them)."""
        self._waiting.discard(consumer)
        if not self._waiting and not self._settled:
            self._settled = True
            log.info("every consumer holds its partitions")

    def revoked(self, consumer: str) -> None:
        """A rebalance took `consumer`'s partitions; before the first settling, it waits again."""
        if not self._settled:
            self._waiting.add(consumer)

    def waiting(self) -> list[str]:
        """The consumers still waiting for their partitions (none once settled)."""
        return [] if self._settled else sorted(self._waiting)

    async def ready(self) -> bool:
        """A readiness check: every consumer has held its partitions, all at the same time."""
        return self._settled or not self._waiting


class _Joined(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka ships no types
    """Tells `Assignments` when the consumer's partitions are assigned and revoked."""

    def __init__(self, assignments: Assignments, consumer: str) -> None:
        self._assignments = assignments
        self._consumer = consumer

    async def on_partitions_revoked(self, revoked: Set[Any]) -> None:  # noqa: ARG002
        """A rebalance began (offsets are committed after each batch, nothing to save here)."""
        self._assignments.revoked(self._consumer)

    async def on_partitions_assigned(self, assigned: Set[Any]) -> None:  # noqa: ARG002
        """The group's join completed: this consumer owns what it was given."""
        self._assignments.assigned(self._consumer)
