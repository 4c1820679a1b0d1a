"""The scheduler: reads the due index, fires each due case's thresholds in one compare-and-set.

A due-index entry points at a case's earliest pending threshold. A visit fires every threshold of
that case due by now in ONE compare-and-set on the case document: the clock entries record the
thresholds passed and this replica's claim (`Lease`), and the log entry carries the events, listed
as unpublished. After the publish a `$pull` marks them published. A replica that dies between the
two leaves the entry unpublished; once its heartbeat is stale (`sla.clocks.liveness`), the next
visit (the index entry stays unsettled meanwhile, so the shared watermark waits) republishes the
stored events with their original ids (ADR 0006, ADR 0025). Replicas racing for a case lose the
compare-and-set, never fire twice. `run_forever` claims ahead (`sla.clocks.ahead`, ADR 0034).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from servicekit.clock import Clock
from servicekit.timer import DueLoop
from sla.clocks.ahead import Ahead, Claim, read_claims
from sla.clocks.due import due_entry
from sla.clocks.firing import Firing, event_kind, fire_due
from sla.clocks.liveness import ClaimRule, Liveness, beat_forever
from sla.clocks.replan import Keys, pause_window, replan_for_severity
from sla.clocks.sheet import Lease
from sla.domain import TERMINAL, BusinessCalendar, SlaPolicy
from sla.metrics import SlaMetrics
from sla.ports import (
    CaseChange,
    CaseRecord,
    CaseStore,
    DueIndex,
    LogEntry,
    Publish,
    after,
)
from sla.snapshots import with_snapshots

log = logging.getLogger(__name__)


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
    # Real seconds ahead the index is read and cases loaded, to fire at the due instant (0: read
    # once due, fire in the round) and the least real time between two waves (ADR 0034).
    claim_ahead: float = 0.0
    gather: float = 0.1
    _loop: DueLoop = field(init=False)
    _ahead: Ahead | None = field(init=False, default=None)
    lead: timedelta = field(init=False)  # `claim_ahead` in the clock's (business) time

    def __post_init__(self) -> None:
        self.lead = timedelta(seconds=self.claim_ahead * self.time_scale)
        self._loop = DueLoop(
            name="scheduler",
            clock=self.clock,
            max_sleep=self.max_sleep,
            min_sleep=self.min_sleep,
            time_scale=self.time_scale,
        )

    def wake(self, at: datetime | None = None) -> None:
        """A new threshold is indexed (due at `at`): re-check if that is before the nap ends
        (when claiming ahead, before the nap ends plus the lead)."""
        ahead = self._ahead
        (ahead.reader if ahead else self._loop).wake(at - self.lead if at and ahead else at)

    async def run_once(self) -> int:
        """Visit every case with a due index entry; returns how many thresholds fired."""
        now = self.clock.now()
        claims, _ = await self._claim(now, (), self.claim_batch)
        fired, _ = await self._fire(list(claims.values()), now)
        await self.index.advance(now=now)
        return fired

    async def _claim(
        self, until: datetime, skip: Collection[str], limit: int
    ) -> tuple[dict[str, Claim], int]:
        return await read_claims(self.index, self.cases, until=until, skip=skip, limit=limit)

    async def _fire(self, claims: Sequence[Claim], now: datetime) -> tuple[int, list[CaseRecord]]:
        """Visit the claimed cases at `now`: fire, publish, mark, settle. The thresholds fired,
        and the cases whose compare-and-set won as they now read (nothing left unpublished)."""
        records = {c.record.complaint_id: c.record for c in claims if c.record is not None}
        entries = {c.record.complaint_id: c.entries for c in claims if c.record is not None}
        # Only a case with unpublished firings needs its stored events: read those again whole.
        if sweep := [cid for cid, r in records.items() if r.unpublished]:
            records |= await self.cases.load_many(sweep)
        beats = await self._beats([records[cid] for cid in sweep if cid in records])
        visits = [self._plan(r, now, beats) for r in records.values()]
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
                    if e not in {x for _, x in entries[v.record.complaint_id]}
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
        # An entry read ahead that is not yet due stays unsettled, whatever this visit did: it
        # is read again, and a visit once it is due fires its threshold.
        for visit in visits:
            if visit.done:
                for slot, entry in entries[visit.record.complaint_id]:
                    if entry[1] <= now:
                        self.index.settle(slot, entry)
        published = {entry.id for _, entry in outgoing}
        return self._count(visits), [
            replace(r, log=(), unpublished=tuple(u for u in r.unpublished if u not in published))
            for r in changed
        ]

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

    def _count(self, visits: Sequence[_Visit]) -> int:  # with their lags in the metrics
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
        upcoming = self.index.upcoming()
        return upcoming - self.lead if upcoming is not None and self._ahead else upcoming

    def ahead(self) -> Ahead:
        """The reader and firer `run_forever` runs when claiming ahead (made once)."""
        self._ahead = self._ahead or Ahead(
            claim=self._claim,
            fire=self._fire,
            index=self.index,
            loop=self._loop,
            lead=self.lead,
            gather=self.gather,
            batch=self.claim_batch,
            retry=self.rule.stale_after,
            read_every=min(self.max_sleep, self.claim_ahead / 8),
        )
        return self._ahead

    async def run_forever(self) -> None:
        """Beat and fire until cancelled; infrastructure failures are logged and retried.

        Cancelled, it stops as a killed process would (its claims go stale with its beat): a
        clean stop also calls `leave`.
        """
        async with asyncio.TaskGroup() as group:
            group.create_task(
                beat_forever(self.liveness, self.owner, clock=self.clock, every=self.beat_every)
            )
            if self.claim_ahead <= 0:
                group.create_task(self._loop.run(self._round, self._upcoming))
                return
            ahead = self.ahead()
            group.create_task(ahead.reader.run(ahead.read, self._upcoming))
            group.create_task(ahead.fire_forever())

    async def leave(self) -> None:
        """A clean stop (after `run_forever` was cancelled): the firings this replica recorded
        but did not publish are free for the others at once, not after its beat goes stale."""
        await self.liveness.leave(self.owner)


_SETTLED = frozenset({"resolved", "callback_done"})  # past resolution: repeating clocks stop
