"""Gauges that need the whole picture: open and overdue deadlines, timely-handling rate per clock.

Counters in the handlers say what happened since a process started; these say how things stand,
read every `interval` seconds by each replica (dashboards take the max) from the tally the case
writes keep (`sla.adapters.census_tally`, ADR 0024): one small document, not every case (the
recount it replaces decoded each case whole: 1.9 s of the server's CPU at 2,300 cases). The
back-off stays for a store that counts slowly: it waits at least `1 / share` times as long as the
last count took, so the census keeps to about `share` of the time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from dataclasses import dataclass

from contracts import ClockStatus
from sla.metrics import SlaMetrics
from sla.ports import CaseStore

log = logging.getLogger(__name__)


@dataclass
class Census:
    """Sets the deadline gauges from the store's census periodically."""

    store: CaseStore
    metrics: SlaMetrics
    interval: float = 60.0
    share: float = 0.05  # of the wall time, at most, spent recounting
    stale: float = 120.0
    """Seconds after which a tally difference still announced is a dead writer's (ADR 0029)."""

    async def once(self) -> None:
        """One count, after settling what dead writers left announced."""
        await self.store.heal_tally(self.stale)
        rows = await self.store.census()
        running: dict[tuple[str, str], int] = defaultdict(int)
        overdue: dict[tuple[str, str], int] = defaultdict(int)
        on_time: dict[str, int] = defaultdict(int)
        judged: dict[str, int] = defaultdict(int)
        for clock, severity, status, outcome, n in rows:
            if clock == "upgrade":
                continue
            if status == ClockStatus.RUNNING:
                running[clock, severity] += n
            if outcome == "overdue" and status == ClockStatus.RUNNING:
                overdue[clock, severity] += n
                judged[clock] += n
            if status in {ClockStatus.MET, ClockStatus.BREACHED} and outcome in {"on_time", "late"}:
                judged[clock] += n
                on_time[clock] += n if outcome == "on_time" else 0
        self.metrics.open.clear()
        self.metrics.overdue.clear()
        for (clock, severity), n in running.items():
            self.metrics.open.labels(clock, severity).set(n)
        for (clock, severity), n in overdue.items():
            self.metrics.overdue.labels(clock, severity).set(n)
        for clock, n in judged.items():
            self.metrics.timely.labels(clock).set(on_time[clock] / n if n else 1.0)

    def pause_after(self, took: float) -> float:
        """Seconds to wait after a recount that took `took`: the interval, or longer when the
        recount is costly."""
        return max(self.interval, took / self.share - took)

    async def run_forever(self) -> None:
        """Recount until cancelled; a failed count is logged and retried next time."""
        while True:
            started = time.monotonic()
            try:
                await self.once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("deadline census failed; retrying next interval")
            await asyncio.sleep(self.pause_after(time.monotonic() - started))
