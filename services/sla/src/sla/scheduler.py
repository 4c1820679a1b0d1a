"""The deadline scheduler: sleeps until the next due threshold, claims it with a lease, fires once.

Several replicas may run it against one `deadlines` collection: a deadline is claimed by an atomic
conditional update, so only one replica fires it; a replica that dies holding leases leaves them
to expire, and another replica fires those. An event id derived from (deadline, threshold) makes
the rare double publish after a crash harmless downstream.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from contracts import Event, Severity, SlaChange, SlaChanged, SlaEventKind
from servicekit.clock import Clock
from servicekit.timer import DueLoop
from sla.metrics import SlaMetrics
from sla.ports import DeadlineStore, StoredDeadline, Threshold

log = logging.getLogger(__name__)
SOURCE = "/complaints/sla"
Publish = Callable[[Sequence[Event]], Awaitable[None]]
PARALLEL = 16  # concurrent lease releases per round


def event_kind(deadline: StoredDeadline, threshold: Threshold) -> SlaEventKind:
    """Warning before the due time, breach at it, escalation after it, or a severity upgrade."""
    if deadline.upgrade_to is not None:
        return SlaEventKind.UPGRADED
    if threshold.percent < 100:
        return SlaEventKind.WARNED
    return SlaEventKind.BREACHED if threshold.percent == 100 else SlaEventKind.ESCALATED


def fired_event(deadline: StoredDeadline, threshold: Threshold, *, now_: Clock) -> SlaChanged:
    """The event announcing that `threshold` of `deadline` was reached."""
    kind = event_kind(deadline, threshold)
    target = deadline.upgrade_to
    data = SlaChange(
        complaint_id=deadline.complaint_id,
        event=kind,
        severity=Severity(target) if target is not None else Severity(deadline.severity),
        previous_severity=Severity(deadline.severity) if target is not None else None,
        clock=deadline.clock,
        occurrence=deadline.occurrence,
        threshold=threshold.percent,
        due_at=deadline.due_at,
        audiences=list(threshold.audiences),
        policy_version=deadline.policy_version,
        calendar_version=deadline.calendar_version,
        fired_at=now_.now(),
    )
    return SlaChanged.build(
        data=data,
        subject=deadline.complaint_id,
        source=SOURCE,
        time=now_.now(),
        cause=f"{deadline.deadline_id}@{threshold.percent}",
    )


@dataclass
class Scheduler:
    """Fires due deadline thresholds exactly once across replicas."""

    store: DeadlineStore
    publish: Publish
    clock: Clock
    metrics: SlaMetrics
    owner: str
    lease: timedelta = timedelta(seconds=30)
    claim_batch: int = 500
    max_sleep: float = 0.5
    min_sleep: float = 0.05  # gathers thresholds falling due together into one round
    time_scale: float = 1.0
    on_fired: Callable[[StoredDeadline, Threshold], Awaitable[None]] | None = None
    _loop: DueLoop = field(init=False)

    def __post_init__(self) -> None:
        self._loop = DueLoop(
            name="scheduler",
            clock=self.clock,
            max_sleep=self.max_sleep,
            min_sleep=self.min_sleep,
            time_scale=self.time_scale,
        )

    def wake(self) -> None:
        """Re-check now: a new deadline may be due earlier than the one we sleep for."""
        self._loop.wake()

    async def run_once(self) -> int:
        """Claim and fire every due threshold; returns how many fired."""
        now = self.clock.now()
        claimed = await self.store.claim_due(
            now=now, owner=self.owner, lease_until=now + self.lease, limit=self.claim_batch
        )
        due = [(d, t) for d in claimed if (t := d.next_threshold()) is not None]
        await self.publish([fired_event(d, t, now_=self.clock) for d, t in due])
        for start in range(0, len(due), PARALLEL):
            chunk = due[start : start + PARALLEL]
            await asyncio.gather(
                *(self.store.fired(d, percent=t.percent, owner=self.owner) for d, t in chunk)
            )
        for deadline, threshold in due:
            lag = (self.clock.now() - threshold.at).total_seconds()
            self.metrics.scheduler_lag.observe(max(0.0, lag))
            self.metrics.fired.labels(
                event_kind(deadline, threshold).value,
                deadline.clock.value if deadline.clock else "upgrade",
                deadline.severity,
            ).inc()
            if self.on_fired is not None:
                await self.on_fired(deadline, threshold)
        return len(due)

    async def _round(self) -> bool:
        return await self.run_once() >= self.claim_batch

    async def run_forever(self) -> None:
        """Fire until cancelled; infrastructure failures are logged and retried."""
        await self._loop.run(self._round, self.store.next_due_at)
