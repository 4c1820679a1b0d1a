"""The demo's business time waits for the pipeline: a hold while staff wait on the system.

At 540× a real second is nine business minutes, so a pipeline that falls two seconds behind a
staff member's action turns a prompt first contact into a late one, and a dispatch scripted
between the breach (100 %) and the escalation (150 %) of a P1 clock — 0.8 real seconds apart —
into an escalation. The outcome then depends on the machine, not on the script. The keeper
watches the staff steps that stop an hour-scale clock (`staff_script.PRESSING`): while one has
fallen due and waited for the system longer than `BEHIND_S` real seconds, it holds business time
for every process (a hold line in the anchor file, `servicekit.clock`, ADR 0035).
The holds together are bounded (`BUDGET_S`), so a starved machine still ends the demo.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime
from pathlib import Path

from servicekit.clock import Hold, write_anchor_file

BEHIND_S = 0.8
"""Real seconds a step may wait for the system before business time holds (7.2 business
minutes; a P1 has 12 between its scripted late dispatch and its escalation, 21 between a prompt
dispatch and its due time)."""
BUDGET_S = 60.0
"""Real seconds business time may be held in all, so a starved machine still ends the demo."""
LOOK_S = 0.05


class TimeKeeper:
    """Writes the run's anchor file, and holds business time while the system is behind."""

    def __init__(
        self, path: Path, *, behind_s: float = BEHIND_S, budget_s: float = BUDGET_S
    ) -> None:
        self.path = path
        self.behind_s = behind_s
        self.budget_s = budget_s
        self.anchor: datetime | None = None
        self.holds: list[Hold] = []
        self._waiting: dict[str, float] = {}  # what waits on the system → since (monotonic)
        self._task: asyncio.Task[None] | None = None

    @property
    def held_s(self) -> float:
        """Real seconds held so far."""
        now = datetime.now(UTC)
        return sum(((end or now) - start).total_seconds() for start, end in self.holds)

    @property
    def holding(self) -> bool:
        """Whether business time stands now."""
        return bool(self.holds) and self.holds[-1][1] is None

    def start(self, anchor: datetime) -> None:
        """Business time starts at `anchor` (real) for every process; begin watching."""
        self.anchor = anchor
        write_anchor_file(self.path, anchor)
        self._task = asyncio.create_task(self._keep(), name="demo-time-keeper")

    def due(self, key: str) -> None:
        """Something fell due that the system must do (a staff step): it waits from now."""
        self._waiting.setdefault(key, time.monotonic())

    def done(self, key: str) -> None:
        """It was done (or given up)."""
        self._waiting.pop(key, None)

    def behind(self) -> float:
        """Real seconds the longest-waiting thing has waited."""
        now = time.monotonic()
        return max((now - since for since in self._waiting.values()), default=0.0)

    def decide(self) -> bool:
        """Start or end a hold as the system is behind or not; whether the file changed."""
        if self.anchor is None:
            return False  # not started: there is no business time to hold
        late = self.behind() > self.behind_s and self.held_s < self.budget_s
        if late == self.holding:
            return False
        now = datetime.now(UTC)
        if late:
            self.holds.append((now, None))
        else:
            self.holds[-1] = (self.holds[-1][0], now)
        write_anchor_file(self.path, self.anchor, self.holds)
        return True

    async def _keep(self) -> None:
        while True:
            self.decide()
            await asyncio.sleep(LOOK_S)

    async def stop(self) -> None:
        """Stop watching; end a hold in progress (business time runs on to the end)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._waiting.clear()
        if self.holding:
            self.decide()

    def note(self) -> str:
        """What the holds cost, for the closing table."""
        return f"{self.held_s:.1f} s in {len(self.holds)} holds (limit {self.budget_s:.0f} s)"
