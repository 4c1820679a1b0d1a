"""Mass incidents in the notifier: operations told once per level, each customer one notice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from contracts import IncidentChange, IncidentChanged
from notifier.domain import IncidentMember, IncidentRouter, Intent, Origin, members_of
from notifier.parsing import with_origins
from servicekit.bodies import Received
from servicekit.delivery import Rejection

if TYPE_CHECKING:
    from notifier.service import Notifier


_JOINING = (IncidentChange.OPENED, IncidentChange.GROWN)
ACK_SUFFIX = ":ack:-:-:customer"


def incident_router(notifier: Notifier) -> IncidentRouter:
    """Incident routing from the same pack as the rest."""
    policy = notifier.router.policy
    return IncidentRouter(policy.incidents, policy.timezone)


async def on_incidents(
    notifier: Notifier, messages: Sequence[Received[IncidentChanged]]
) -> list[Rejection]:
    """Operations on open, per update threshold and on close; each customer one notice.

    The whole batch's memberships are one join and its notices one delivery (one claim insert),
    however many incident events it holds; a removal first records the joins before it, so the
    events still apply in their order.
    """
    events = with_origins(messages)
    router = incident_router(notifier)
    intents: list[Intent] = []
    joined: list[tuple[IncidentMember, datetime, Origin | None]] = []
    pending: list[IncidentMember] = []  # joined since the last removal, not yet recorded
    for event, origin in sorted(events, key=lambda e: (e[0].data.incident_id, e[0].data.sequence)):
        record, at = event.data, event.time
        intents += router.for_staff(record, at=at, origin=origin)
        if record.change in _JOINING:
            members = members_of(record, record.added_ids)
            joined += [(m, at, origin) for m in members]
            pending += members
        elif record.change is IncidentChange.CLOSED:
            ids = members_of(record, record.member_ids)
            intents += [router.restored(m, at=at, origin=origin) for m in ids]
        elif record.change is IncidentChange.MEMBER_REMOVED and notifier.incidents is not None:
            await notifier.incidents.join(pending)
            await notifier.incidents.leave(record.removed_ids)
            pending = []
    if notifier.incidents is not None:
        await notifier.incidents.join(pending)
    await _tell_members(notifier, intents, joined)
    return []


async def _tell_members(
    notifier: Notifier,
    others: Sequence[Intent],
    joined: Sequence[tuple[IncidentMember, datetime, Origin | None]],
) -> None:
    """The notice on each member's acknowledgement key; those acknowledged before the
    incident was known (the key holds the boilerplate) get the notice as an update."""
    router = incident_router(notifier)
    notices = [router.notice(m, at=at, origin=origin) for m, at, origin in joined]
    await notifier.deliver([*others, *notices])
    claimed = await notifier.log.templates([n.key for n in notices])
    wanted = router.policy.templates["notice"]
    await notifier.deliver(
        [
            router.update_notice(m, at=at, origin=origin)
            for (m, at, origin), n in zip(joined, notices, strict=True)
            if claimed.get(n.key, wanted) != wanted
        ]
    )


async def incident_notices(notifier: Notifier, intents: list[Intent]) -> list[Intent]:
    """Acknowledgements of incident members become the incident notice (same key)."""
    acks = [i for i in intents if i.key.endswith(ACK_SUFFIX)]
    if not acks or notifier.incidents is None:
        return intents
    known = await notifier.incidents.members([i.complaint_id for i in acks])
    router = incident_router(notifier)
    return [
        router.instead_of(i, known[i.complaint_id])
        if i.complaint_id in known and i.key.endswith(ACK_SUFFIX)
        else i
        for i in intents
    ]
