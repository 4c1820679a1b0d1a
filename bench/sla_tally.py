"""What `bench/sla_scheduler.py` counts: what reached "Kafka", which replica sent it, the lags."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from pipeline_figures import percentile
from pymongo import monitoring

from contracts import Event, SlaChange
from sla.adapters.mongo_cases import MongoCaseStore
from sla.ports import CaseChange, CaseRecord


def spread(lags: Sequence[float]) -> str:
    """p50, p99 and max of lags in seconds, as milliseconds."""
    p50, p99 = percentile(lags, 0.5) * 1000, percentile(lags, 0.99) * 1000
    worst = max(lags, default=float("nan")) * 1000
    return f"p50 {p50:,.0f} ms, p99 {p99:,.0f} ms, max {worst:,.0f} ms"


class Tally:
    """What reached "Kafka" for this run's cases: first publishes, repeats, lags, who sent it."""

    def __init__(self, run: str) -> None:
        self.prefix = f"CP20261124-{run}"
        self.lags: dict[str, float] = {}  # breaches only: the overall line
        self.all_lags: dict[str, float] = {}  # every threshold, from its own fire time
        self.published: Counter[str] = Counter()
        self.firings: set[tuple[str, int | None]] = set()
        self.started: dict[str, datetime] = {}  # fed case → its clock's start
        self.recorded: dict[str, set[str]] = {}  # replica → event ids its compare-and-sets stored
        self.first_by: dict[str, str] = {}  # event id → the replica that published it first
        self.waited: dict[str, float] = {}  # breach → due until its round began (its `fired_at`)
        self.worked: dict[str, float] = {}  # breach → its round's start until the publish

    def publisher(self, owner: str) -> Callable[[Sequence[Event]], Awaitable[None]]:
        """Replica `owner`'s publish: counts instead of sending."""

        async def publish(events: Sequence[Event]) -> None:
            self.publish(owner, events)

        return publish

    def publish(self, owner: str, events: Sequence[Event]) -> None:
        """Count the clock changes among `events` (each round also publishes snapshots)."""
        fired_at = datetime.now(UTC)
        for event in events:
            data = event.data  # type: ignore[attr-defined]
            if not isinstance(data, SlaChange) or not data.complaint_id.startswith(self.prefix):
                continue
            self.published[event.id] += 1
            if self.published[event.id] > 1:
                continue
            self.first_by[event.id] = owner
            self.firings.add((data.complaint_id, data.threshold))
            assert data.due_at is not None  # noqa: S101 - the bench's clocks all have a due time
            if data.threshold == 100:
                self.lags[event.id] = (fired_at - data.due_at).total_seconds()
                if data.fired_at is not None:
                    self.waited[event.id] = (data.fired_at - data.due_at).total_seconds()
                    self.worked[event.id] = (fired_at - data.fired_at).total_seconds()
            started = self.started[data.complaint_id]
            due = started + (data.due_at - started) * (data.threshold or 0) / 100
            self.all_lags[event.id] = (fired_at - due).total_seconds()

    def taken_over(self, dead: str) -> tuple[list[float], list[float]]:
        """Lags of the firings `dead` recorded and another replica published first; the rest."""
        mine = self.recorded.get(dead, set())
        taken = {i for i, by in self.first_by.items() if i in mine and by != dead}
        return (
            [lag for i, lag in self.all_lags.items() if i in taken],
            [lag for i, lag in self.all_lags.items() if i not in taken],
        )


class Recording(MongoCaseStore):
    """The real store, noting which events this replica's compare-and-sets stored; once `doomed`,
    a write that reached the database and recorded firings never returns (the process "dies"
    right after it, its firings claimed and unpublished)."""

    def __init__(self, db: Any, recorded: set[str]) -> None:
        super().__init__(db)
        self.recorded = recorded
        self.doomed = False
        self.wrote = asyncio.Event()  # a doomed write reached the database with firings in it

    async def commit(self, record: CaseRecord, change: CaseChange) -> bool:
        """The store's compare-and-set; its events noted when it won."""
        won = await super().commit(record, change)
        if won:
            self.recorded.update(e.id for e in change.entry.events)
        await self._fate(recorded=won)
        return won

    async def commit_many(self, changes: Sequence[tuple[CaseRecord, CaseChange]]) -> set[str]:
        """The store's batched compare-and-sets; the winners' events noted."""
        won = await super().commit_many(changes)
        for record, change in changes:
            if record.complaint_id in won:
                self.recorded.update(e.id for e in change.entry.events)
        await self._fate(recorded=bool(won))
        return won

    async def _fate(self, *, recorded: bool) -> None:
        # A write that lost every compare-and-set to the other replica recorded nothing: dying
        # there would leave nothing to take over, so the kill waits for one that won.
        if self.doomed and recorded:
            self.wrote.set()
            await asyncio.Event().wait()  # until the task is cancelled: nothing published


class Commands(monitoring.CommandListener):
    """Database commands this process sends, by name, while `counting`."""

    def __init__(self) -> None:
        self.counting = False
        self.sent: Counter[str] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        """Count one command."""
        if self.counting:
            self.sent[event.command_name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        """Nothing to count."""

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        """Nothing to count."""

    def line(self, firings: int, cpu: float) -> str:
        """Commands and this process's CPU per firing (the feed's inserts included)."""
        total = sum(self.sent.values())
        names = ", ".join(f"{name} {n:,}" for name, n in self.sent.most_common())
        per = max(1, firings)
        return (
            f"  commands {total:,} ({names}): {total / per:.2f} per firing; "
            f"bench process CPU {cpu:.1f} s, {cpu / per * 1000:.2f} ms per firing"
        )
