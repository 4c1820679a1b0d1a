"""Mass incidents in the notifier: operations told once per level, each customer one notice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import TypeAdapter

from contracts import IncidentChange, IncidentChanged
from notifier.domain import IncidentMember, IncidentRouter, Intent, Origin, members_of
from servicekit.delivery import Inbound, Rejection

if TYPE_CHECKING:
    from notifier.service import Notifier


def _parse(
    messages: Sequence[Inbound],
) -> tuple[list[tuple[IncidentChanged, Origin]], list[Rejection]]:
    """Parse incident events (as the other topics are parsed)."""
    from notifier.service import parse  # the service module imports this one: import late

    return parse(messages, _INCIDENT, IncidentChanged.event_type)


_INCIDENT = TypeAdapter(IncidentChanged)
_JOINING = (IncidentChange.OPENED, IncidentChange.GROWN)
ACK_SUFFIX = ":ack:-:-:customer"


def incident_router(notifier: Notifier) -> IncidentRouter:
    """Incident routing from the same pack as the rest."""
    policy = notifier.router.policy
    return IncidentRouter(policy.incidents, policy.timezone)


async def on_incidents(notifier: Notifier, messages: Sequence[Inbound]) -> list[Rejection]:
    """Operations on open, per update threshold and on close; each customer one notice."""
    events, rejections = _parse(messages)
    for event, origin in sorted(events, key=lambda e: (e[0].data.incident_id, e[0].data.sequence)):
        record, at = event.data, event.time
        staff = incident_router(notifier).for_staff(record, at=at, origin=origin)
        if record.change in _JOINING:
            joined = members_of(record, record.added_ids)
            if notifier.incidents is not None:
                await notifier.incidents.join(joined)
            await _tell_members(notifier, staff, joined, at=at, origin=origin)
        elif record.change is IncidentChange.CLOSED:
            ids = members_of(record, record.member_ids)
            await notifier.deliver(
                [
                    *staff,
                    *(incident_router(notifier).restored(m, at=at, origin=origin) for m in ids),
                ]
            )
        else:
            if record.change is IncidentChange.MEMBER_REMOVED and notifier.incidents is not None:
                await notifier.incidents.leave(record.removed_ids)
            await notifier.deliver(staff)
    return rejections


async def _tell_members(
    notifier: Notifier,
    staff: Sequence[Intent],
    members: Sequence[IncidentMember],
    *,
    at: datetime,
    origin: Origin | None,
) -> None:
    """The notice on each member's acknowledgement key; those acknowledged before the
    incident was known (the key holds the boilerplate) get the notice as an update."""
    router = incident_router(notifier)
    notices = [router.notice(m, at=at, origin=origin) for m in members]
    await notifier.deliver([*staff, *notices])
    claimed = await notifier.log.templates([n.key for n in notices])
    wanted = router.policy.templates["notice"]
    await notifier.deliver(
        [
            router.update_notice(m, at=at, origin=origin)
            for m, n in zip(members, notices, strict=True)
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
