"""Each delivery's plan, made before its key is claimed: what the claim's insert stores at once
(an outcome known without sending) and what is sent before anything is stored (ADR 0038)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from notifier.domain import Delivery, Plan, Planner
from notifier.ports import Outcome
from notifier.sender import Sender


@dataclass
class Planned:
    """The plans of one batch, by key (each key planned once)."""

    plans: dict[str, Plan] = field(default_factory=dict)
    decided: dict[str, Outcome] = field(default_factory=dict)
    """Outcomes known without sending (waits, nowhere to send): stored by the claim's insert."""
    send_first: set[str] = field(default_factory=set)
    """Keys going at once through a channel whose provider drops a repeated key."""

    def plan(self, key: str) -> Plan:
        """The plan made for `key` (send now if none was)."""
        return self.plans.get(key, Plan())

    def release(self, planner: Planner, ours: Collection[str]) -> None:
        """Take back the reservations of the keys not `ours` (found stored: not sent here)."""
        planner.release([plan for key, plan in self.plans.items() if key not in ours])


def plan_batch(
    deliveries: Sequence[Delivery], planner: Planner, sender: Sender, now: datetime
) -> Planned:
    """Quiet hours, digest and rate limit for each key (in the batch's order)."""
    planned = Planned()
    for d in deliveries:
        if d.key in planned.plans:
            continue
        plan = planned.plans[d.key] = planner.plan(d, now)
        if d.recipient is None or plan.deliver_after is not None:
            planned.decided[d.key] = sender.unsent(d, plan.deliver_after, plan.reason)
        elif sender.sends_first(d):
            planned.send_first.add(d.key)
    return planned
