"""What the dispatcher sends together: merged robot messages, staff digests, the rest alone.

A staff message kept waiting by a group robot's rate limit joined a merged message (a slot: one
reserved token, up to the policy's `merge` lines); when the slot comes due its members go as one
message, each member marked delivered by it (ADR 0043). Members beyond one message's lines (the
dispatcher fell behind, or a restart forgot the slots) join the next slots.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from notifier.domain import DIGEST, RATE_LIMITED, Delivery, Plan, Planner
from notifier.ports import Due


@dataclass(frozen=True)
class Batch:
    """Deliveries sent as one message (one alone, else a digest or merged message)."""

    deliveries: list[Delivery]
    plan: Plan
    template: str | None = None
    """The template of the combined message (more than one delivery)."""


def dispatch_batches(
    due: Sequence[Due], planner: Planner, now: datetime, digest_template: str
) -> list[Batch]:
    """Group what came due: merged messages per robot, digests per recipient, the rest alone."""
    merged: dict[tuple[str, str], list[Delivery]] = {}
    digests: dict[tuple[str, str], list[Due]] = {}
    batches: list[Batch] = []
    for item in due:
        delivery, recipient = item.delivery, item.delivery.recipient
        if recipient is None:
            batches.append(Batch([delivery], Plan()))  # nowhere to send it
        elif item.held_for == RATE_LIMITED and planner.merges(delivery):
            merged.setdefault((recipient.id, recipient.channel), []).append(delivery)
        elif delivery.intent.digestible and item.held_for in (DIGEST, RATE_LIMITED):
            digests.setdefault((recipient.id, recipient.channel), []).append(item)
        else:
            held = item.held_for == RATE_LIMITED  # holds a reservation already
            batches.append(Batch([delivery], Plan() if held else _admit(planner, delivery, now)))
    for members in merged.values():
        batches += _merged(members, planner, now)
    for group in digests.values():
        held = all(d.held_for == RATE_LIMITED for d in group)  # holds a reservation already
        plan = Plan() if held else _admit(planner, group[0].delivery, now)
        batches.append(Batch([d.delivery for d in group], plan, digest_template))
    return batches


def _admit(planner: Planner, delivery: Delivery, now: datetime) -> Plan:
    recipient = delivery.recipient
    if recipient is None:
        return Plan()
    return planner.admit(recipient.address, recipient.channel, now)


def _merged(members: list[Delivery], planner: Planner, now: datetime) -> list[Batch]:
    """The slot's message (its token reserved when the slot opened), more messages while the
    robot has free turns now, and the lines left over join the next slots."""
    recipient = members[0].recipient
    if recipient is None:  # grouped by recipient: never
        return [Batch([d], Plan()) for d in members]
    channel = recipient.channel
    size, template = planner.merge_size(channel), planner.merge_template(channel)
    batches = [Batch(members[:size], Plan(), template)]
    start = size
    while start < len(members) and planner.take(recipient, now):
        batches.append(Batch(members[start : start + size], Plan(), template))
        start += size
    return batches + [Batch([d], planner.rejoin(d, now)) for d in members[start:]]
