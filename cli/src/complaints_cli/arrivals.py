"""The demo's arrivals wait while the pipeline is behind: it is fed at a rate it sustains.

Business time runs at 540× whatever the pipeline does, so a complaint that queues behind others
for two real seconds misses a 15-minute acknowledgement clock. The arrivals keep their even
pace, except that the next complaint is held while too many sent ones are not yet acknowledged
at the receiver; the rest of the schedule moves with the wait (no burst to catch up), and the
holding is bounded so the demo still ends in time on a starved machine.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from complaints_cli.receiver import Receiver

IN_FLIGHT = 10
"""Complaints sent but not yet acknowledged before the next one waits (under a second of the
demo's 12 arrivals a second; a P1's acknowledgement clock is 1.7 real seconds)."""
HOLD_BUDGET_S = 15.0
"""Real seconds the arrivals may be held in all, so the demo stays within its three minutes."""
LOOK_S = 0.05


@dataclass
class Backpressure:
    """Holds the next arrival while `IN_FLIGHT` sent complaints await their acknowledgement."""

    receiver: Receiver
    in_flight: int = IN_FLIGHT
    budget_s: float = HOLD_BUDGET_S
    held_s: float = 0.0

    def waiting(self, sent: int) -> int:
        """Sent complaints not yet acknowledged (those that cannot be, e.g. no phone, count
        as waiting: a few, and the budget bounds what they cost)."""
        return sent - len(self.receiver.customer_acks())

    async def hold(self, sent: int) -> None:
        """Wait until fewer than `in_flight` of the `sent` are unacknowledged, or the budget
        is spent."""
        started = time.monotonic()
        while (  # noqa: ASYNC110 - the receiver records deliveries in its own task
            self.waiting(sent) >= self.in_flight
            and self.held_s + time.monotonic() - started < self.budget_s
        ):
            await asyncio.sleep(LOOK_S)
        self.held_s += time.monotonic() - started

    def note(self) -> str:
        """What the holding cost, for the demo's progress output."""
        return (
            f"arrivals held {self.held_s:.1f} s in all while {self.in_flight} sent complaints"
            " awaited their acknowledgement"
        )
