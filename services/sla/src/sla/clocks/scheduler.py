"""The scheduler: reads the due index, fires each due case's thresholds in one compare-and-set.

A due-index entry points at a case's earliest pending threshold. A visit fires every threshold of
that case due by now in ONE compare-and-set on the case document: the clock entries record the
thresholds passed and this replica's claim (`Lease`), and the log entry carries the events, listed
as unpublished. After the publish a `$pull` marks them published. A replica that dies between the
two leaves the entry unpublished; once its heartbeat is stale (`sla.clocks.liveness`), the next
visit (the index entry stays unsettled meanwhile, so the shared watermark waits) republishes the
stored events with their original ids (ADR 0006, ADR 0025). Replicas racing for a case lose the
compare-and-set, never fire twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from servicekit.clock import Clock
from servicekit.timer import DueLoop
from sla.clocks.firing import Firing, event_kind, fire_due
from sla.clocks.liveness import ClaimRule, Liveness, beat_forever
from sla.clocks.replan import Keys, pause_window, replan_for_severity
from sla.clocks.sheet import ClockEntry, Lease, earliest
from sla.domain import TERMINAL, BusinessCalendar, SlaPolicy
from sla.metrics import SlaMetrics
from sla.ports import (
    CaseChange,
    CaseRecord,
    CaseStore,
    DueEntry,
    DueIndex,
    LogEntry,
    Publish,
    after,
)
from sla.snapshots import with_snapshots

log = logging.getLogger(__name__)


def due_entry(complaint_id: str, sheet: Sequence[ClockEntry]) -> DueEntry | None:
    """The index entry for a sheet's earliest pending threshold."""
    first = earliest(sheet)
    if first is None:
        return None
    entry, threshold = first
    return entry.deadline_id(complaint_id), threshold.at, threshold.percent


def earlier_entry(
    complaint_id: str, before: Sequence[ClockEntry], now_sheet: Sequence[ClockEntry]
) -> list[DueEntry]:
    """The entry a change must index: only when it moves the sheet's earliest threshold EARLIER.

    A change that moves it later (a clock met, a pause, an extension) needs none: the entry
    already indexed still brings the scheduler to the case in time, and that visit indexes the
    sheet's new earliest threshold.
    """
    new, old = due_entry(complaint_id, now_sheet), due_entry(complaint_id, before)
    return [new] if new is not None and (old is None or new[1] < old[1]) else []


@dataclass
class _Visit:
    record: CaseRecord
    republish: list[LogEntry]
    firing: Firing | None = None
    done: bool = True  # the index entries of this case may be settled after the round


@dataclass
class Scheduler:
    """Fires due thresholds exactly once across replicas."""

    cases: CaseStore
    index: DueIndex
    publish: Publish
    clock: Clock
    metrics: SlaMetrics
    policy: SlaPolicy
    calendar: BusinessCalendar
    owner: str
    liveness: Liveness
    lease: timedelta = timedelta(seconds=30)  # a backstop: claims hold while their owner beats
    rule: ClaimRule = field(default_factory=ClaimRule)
    beat_every: float = 0.2  # real seconds between heartbeats
    claim_batch: int = 500
    max_sleep: float = 0.5
    min_sleep: float = 0.01  # gathers thresholds falling due together into one round
    time_scale: float = 1.0
    _loop: DueLoop = field(init=False)

    def __post_init__(self) -> None:
        self._loop = DueLoop(
            name="scheduler",
            clock=self.clock,
            max_sleep=self.max_sleep,
            min_sleep=self.min_sleep,
            time_scale=self.time_scale,
        )

    def wake(self, at: datetime | None = None) -> None:
        """A new threshold is indexed (due at `at`): re-check if that is before the nap ends."""
        self._loop.wake(at)

    async def run_once(self) -> int:
        """Visit every case with a due index entry; returns how many thresholds fired."""
        now = self.clock.now()
        due = await self.index.due(now=now, limit=self.claim_batch)
        by_case: dict[str, list[tuple[int, DueEntry]]] = {}
        for slot, entry in due:
            by_case.setdefault(entry[0].partition(":")[0], []).append((slot, entry))
        records = await self.cases.load_many(list(by_case), log=False)
        # Only a case with unpublished firings needs its stored events: read those again whole.
        if sweep := [cid for cid, r in records.items() if r.unpublished]:
            records |= await self.cases.load_many(sweep)
        beats = await self._beats([records[cid] for cid in sweep if cid in records])
        visits = [self._plan(records[cid], now, beats) for cid in by_case if cid in records]
        # Each visited case's next threshold is indexed before its write (never missed).
        following = [
            (v, e)
            for v in visits
            if v.done
            and (
                e := due_entry(
                    v.record.complaint_id, v.firing.clocks if v.firing else v.record.clocks
                )
            )
            is not None
        ]
        # Indexed in the same breath as the writes, never after: a visit is settled only once both
        # are done, and a replica that dies in between leaves its index entry to the others.
        _, (stored, changed) = await asyncio.gather(
            self.index.add(
                [
                    e
                    for v, e in following
                    if e not in {x for _, x in by_case[v.record.complaint_id]}
                ],
                now=now,
            ),
            self._commit([v for v in visits if v.firing is not None], now),
        )
        outgoing = [(v.record.complaint_id, e) for v in visits for e in v.republish] + stored
        # Each case's state after this round (republished cases as loaded), once (ADR 0011).
        states = [v.record for v in visits if v.republish] + changed
        events = [event for _, entry in outgoing for event in entry.events]
        await self.publish(with_snapshots(events, states, at=now))
        await self.cases.mark_published([(cid, entry.id) for cid, entry in outgoing])
        for visit in visits:
            if visit.done:
                for slot, entry in by_case[visit.record.complaint_id]:
                    self.index.settle(slot, entry)
        fired = self._count(visits)
        await self.index.advance(now=now)
        return fired

    async def _beats(self, unpublished: Sequence[CaseRecord]) -> dict[str, datetime]:
        """The last beats of the other replicas holding claims on these cases (one read, and
        none while no case has another replica's unpublished firings)."""
        owners = {
            c.lease.owner
            for r in unpublished
            for c in r.clocks
            if c.lease is not None and c.lease.owner != self.owner
        }
        return await self.liveness.beats(sorted(owners)) if owners else {}

    def _plan(self, record: CaseRecord, now: datetime, beats: dict[str, datetime]) -> _Visit:
        """What a visit to one case does: republish what a dead replica left, fire what is due."""
        leases = [c.lease for c in record.clocks if c.lease is not None]
        if record.unpublished and any(
            lease.owner != self.owner and self.rule.holds(lease, beats=beats, now=now)
            for lease in leases
        ):
            return _Visit(record, [], done=False)  # a live replica is publishing it now
        republish = [e for i in record.unpublished if (e := record.entry(i)) is not None]
        firing = fire_due(
            record.complaint_id,
            record.clocks,
            severity=record.case.severity,
            settled=record.case.state in TERMINAL or record.case.state.value in _SETTLED,
            now=now,
            lease=Lease(self.owner, now + self.lease),
            policy=self.policy,
            calendar=self.calendar,
        )
        if firing.severity is not None:  # an upgrade re-plans the case on its new level
            replanned = replan_for_severity(
                firing.clocks,
                severity=firing.severity,
                channel=record.facts.channel,
                flags=record.facts.flags,
                now=now,
                policy=self.policy,
                calendar=self.calendar,
                keys=Keys(record.facts.category, record.case.complex_case),
                pause=pause_window(record.case, policy=self.policy, calendar=self.calendar),
            )
            firing = replace(firing, clocks=replanned)
        return _Visit(record, republish, firing if firing.events else None)

    async def _commit(
        self, visits: Sequence[_Visit], now: datetime
    ) -> tuple[list[tuple[str, LogEntry]], list[CaseRecord]]:
        """One compare-and-set per case, sent in bulk (a lost one leaves the case to the next
        round): the stored entries, and the cases as they read now."""
        changes = [(v.record, self._change(v, now)) for v in visits]
        won = await self.cases.commit_many(changes) if changes else set()
        stored: list[tuple[str, LogEntry]] = []
        changed: list[CaseRecord] = []
        for visit, (record, change) in zip(visits, changes, strict=True):
            if record.complaint_id in won:
                stored.append((record.complaint_id, change.entry))
                changed.append(after(record, change))
            else:
                visit.done, visit.firing = False, None
        return stored, changed

    def _change(self, visit: _Visit, now: datetime) -> CaseChange:
        firing = visit.firing
        assert firing is not None  # noqa: S101 - only visits that fire are committed
        case = visit.record.case
        if firing.severity is not None:
            case = replace(case, severity=firing.severity)
        # The replica in the id: two replicas racing for a case store different ids, so a bulk
        # compare-and-set learns whose change landed from the log (`CaseStore.commit_many`).
        entry = LogEntry(
            id=f"fire:{firing.events[0].id}@{self.owner}", at=now, events=firing.events
        )
        return CaseChange(case=case, clocks=firing.clocks, entry=entry, unpublished=True)

    def _count(self, visits: Sequence[_Visit]) -> int:
        fired = 0
        for visit in visits:
            if visit.firing is None:
                continue
            for entry, threshold in visit.firing.fired:
                fired += 1
                lag = (self.clock.now() - threshold.at).total_seconds()
                self.metrics.scheduler_lag.observe(max(0.0, lag))
                self.metrics.fired.labels(
                    event_kind(entry, threshold).value,
                    entry.clock.value if entry.clock else "upgrade",
                    entry.severity,
                ).inc()
        return fired

    async def _round(self) -> bool:
        return await self.run_once() >= self.claim_batch

    async def _upcoming(self) -> datetime | None:
        return self.index.upcoming()

    async def run_forever(self) -> None:
        """Beat and fire until cancelled; infrastructure failures are logged and retried.

        Cancelled, it stops as a killed process would (its claims go stale with its beat): a
        clean stop also calls `leave`.
        """
        async with asyncio.TaskGroup() as group:
            group.create_task(
                beat_forever(self.liveness, self.owner, clock=self.clock, every=self.beat_every)
            )
            group.create_task(self._loop.run(self._round, self._upcoming))

    async def leave(self) -> None:
        """A clean stop (after `run_forever` was cancelled): the firings this replica recorded
        but did not publish are free for the others at once, not after its beat goes stale."""
        await self.liveness.leave(self.owner)


_SETTLED = frozenset({"resolved", "callback_done"})
"""Past resolution: a repeating clock (progress updates) stops re-arming."""
