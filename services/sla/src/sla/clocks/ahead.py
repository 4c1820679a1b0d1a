"""Claiming ahead: read what falls due in the next `lead` before it is due, fire it at its instant.

A scheduler that reads the due index only once a threshold is due makes every firing wait for a
whole round — the index read, the case load, the compare-and-set, the publish — and for the round
before it, still busy when the threshold fell due: under load both grow together (ADR 0034). So
the scheduler's work is split in two loops:

- the **reader** (`read`, run by the scheduler's `DueLoop`) reads the index up to `lead` ahead of
  now and loads the cases it names into `pending` (a case already pending or being fired is not
  loaded again: its new entries join the pending claim);
- the **firer** (`fire_forever`) sleeps until the earliest pending due time and then fires every
  pending case due by now in one wave (`Scheduler._fire`: the same compare-and-set, publish,
  mark and settle as a round), each wave in its own task, at most one wave per `gather` seconds
  and `MAX_WAVES` in flight.

So a firing's lag is the wave's compare-and-set and publish, not the rounds around it. Nothing of
the guarantees changes: the claim is still the compare-and-set at fire time, on the version
loaded ahead; a case that changed meanwhile (a staff action, the other replica's firing) loses
it, its entries stay unsettled and the reader loads it again once the winner has had time to
publish (`retry`). A case a wave fired whose next
threshold falls within the lead goes back into `pending` as it now reads (its version after the
write), so its next firing needs no load.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from servicekit.timer import TIMER_SLACK, DueLoop
from sla.clocks.due import due_entry
from sla.ports import CaseRecord, CaseStore, DueEntry, DueIndex

log = logging.getLogger(__name__)
MAX_WAVES = 2
"""Waves in flight at once: more would pile writes onto a store already slower than the waves."""


@dataclass
class Claim:
    """A case to visit at `due`: its record as loaded (None: not loaded) and its index entries."""

    record: CaseRecord | None
    entries: list[tuple[int, DueEntry]]
    due: datetime


async def read_claims(
    index: DueIndex, cases: CaseStore, *, until: datetime, skip: Collection[str], limit: int
) -> tuple[dict[str, Claim], int]:
    """The cases with index entries due by `until`, loaded (without their logs) unless in
    `skip`; and how many entries were read (at most `limit`)."""
    due = await index.due(now=until, limit=limit)
    by_case: dict[str, list[tuple[int, DueEntry]]] = {}
    for slot, entry in due:
        by_case.setdefault(entry[0].partition(":")[0], []).append((slot, entry))
    wanted = [cid for cid in by_case if cid not in skip]
    records = await cases.load_many(wanted, log=False) if wanted else {}
    claims = {
        cid: Claim(records.get(cid), entries, min(e[1] for _, e in entries))
        for cid, entries in by_case.items()
        if cid in records or cid in skip
    }
    return claims, len(due)


Reader = Callable[[datetime, Collection[str], int], Awaitable[tuple[dict[str, Claim], int]]]
Firer = Callable[[Sequence[Claim], datetime], Awaitable[tuple[int, list[CaseRecord]]]]


@dataclass
class Ahead:
    """The reader's and the firer's shared state; see the module docstring."""

    claim: Reader  # (until, skip, limit) → claims by case and the number of entries read
    fire: Firer  # (claims, now) → thresholds fired, the won cases as they now read
    index: DueIndex
    loop: DueLoop
    lead: timedelta
    gather: float
    batch: int
    retry: timedelta  # how long a case whose compare-and-set lost is left to the winner
    read_every: float  # the reader's shortest nap, real seconds (a wake cuts it short)
    pending: dict[str, Claim] = field(default_factory=dict)
    backoff: dict[str, datetime] = field(default_factory=dict)
    inflight: set[str] = field(default_factory=set)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _waves: set[asyncio.Task[None]] = field(default_factory=set)
    reader: DueLoop = field(init=False)

    def __post_init__(self) -> None:
        loop = self.loop
        self.reader = DueLoop(
            name="scheduler-reader",
            clock=loop.clock,
            max_sleep=max(loop.max_sleep, self.read_every),
            min_sleep=self.read_every,
            time_scale=loop.time_scale,
        )

    async def read(self) -> bool:
        """One reader round: claim what falls due within the lead; full if the batch was."""
        now = self.loop.clock.now()
        self.backoff = {cid: until for cid, until in self.backoff.items() if until > now}
        skip = self.pending.keys() | self.inflight | self.backoff.keys()
        # What is held (pending, being fired, left to another replica) is read again with the
        # rest: the batch counts only what is beyond it, or a full window would starve the new.
        known = sum(len(c.entries) for c in self.pending.values())
        known += 4 * (len(skip) - len(self.pending))
        claims, read = await self.claim(now + self.lead, skip, self.batch + known)
        for cid, claim in claims.items():
            if cid in self.inflight:
                continue  # a wave is writing it: what stays unsettled is read again
            held = self.pending.get(cid)
            if held is None:
                if claim.record is not None:
                    self.pending[cid] = claim
                continue
            held.entries.extend(e for e in claim.entries if e not in held.entries)
            held.due = min(held.due, claim.due)
            if claim.record is not None and (
                held.record is None or claim.record.version > held.record.version
            ):
                held.record = claim.record
        self._changed.set()
        await self.index.advance(now=now)
        return read - known >= self.batch

    async def fire_forever(self) -> None:
        """Fire pending claims as they fall due, until cancelled (the waves with it)."""
        try:
            while True:
                if len(self._waves) >= MAX_WAVES:  # an overloaded store: batches grow instead
                    await asyncio.wait(set(self._waves), return_when=asyncio.FIRST_COMPLETED)
                    continue
                if self.start_ready() is not None:
                    await asyncio.sleep(self.gather)
                    continue
                target = min((c.due for c in self.pending.values()), default=None)
                self._changed.clear()
                delay = self.loop.delay(target) + (TIMER_SLACK if target else 0.0)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout=delay)
        finally:
            for wave in list(self._waves):
                wave.cancel()

    def start_ready(self) -> asyncio.Task[None] | None:
        """Start a wave firing every pending claim due by now (None: nothing is due yet)."""
        now = self.loop.clock.now()
        ready = [c for c in self.pending.values() if c.due <= now]
        ids = {c.record.complaint_id for c in ready if c.record is not None}
        if not ready:
            return None
        for cid in ids:
            del self.pending[cid]
        self.inflight |= ids
        wave = asyncio.create_task(self._wave(ready, ids, now))
        self._waves.add(wave)
        wave.add_done_callback(self._waves.discard)
        return wave

    async def _wave(self, claims: list[Claim], ids: set[str], now: datetime) -> None:
        won: list[CaseRecord] = []
        try:
            _, won = await self.fire(claims, now)
        except asyncio.CancelledError:
            raise
        except Exception:  # the entries stay unsettled: the reader finds them again
            log.exception("scheduler wave failed; its cases are read again")
        finally:
            self.inflight -= ids
        # A case this wave did not write was written by another replica, which is publishing
        # it now: reading it again at once would find its firings unpublished, their owner
        # perhaps slow to beat (taken for dead: its events sent twice). Left for `retry`.
        now = self.loop.clock.now()
        for cid in ids - {r.complaint_id for r in won}:
            self.backoff[cid] = now + self.retry
        horizon = now + self.lead
        for record in won:
            cid = record.complaint_id
            following = due_entry(cid, record.clocks)
            if following is not None and following[1] <= horizon and cid not in self.pending:
                self.pending[cid] = Claim(record, [], following[1])
                self._changed.set()
