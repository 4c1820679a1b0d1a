"""Operations act on incidents: list, show, close, merge, take members out (issue 17).

Each change is published on `complaints.incidents.v1` first and then remembered, numbered
after the last change downstream saw; a retry after a crash publishes the same event (same id).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, replace
from typing import Any

from classifier.domain import (
    HistoryWindows,
    IncidentRow,
    IncidentState,
    Standing,
    changed,
)
from classifier.ports import ClassificationStore, IncidentLedger
from contracts import Event, IncidentChange, IncidentChanged
from servicekit.clock import Clock

log = logging.getLogger(__name__)
Publish = Callable[[Sequence[Event]], Awaitable[None]]


class IncidentProblemError(Exception):
    """A request the desk refuses: HTTP status, reason code and a detail for people."""

    def __init__(self, status: int, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.reason, self.detail = status, reason, detail


@dataclass(frozen=True)
class IncidentView:
    """One incident with its members, as operations sees it (no personal data)."""

    row: IncidentRow
    member_ids: tuple[str, ...]
    sequence: int


@dataclass
class IncidentDesk:
    """The use-case behind the incident API and `complaints incident`."""

    store: ClassificationStore
    ledger: IncidentLedger
    windows: HistoryWindows
    publish: Publish
    clock: Clock

    async def rows(self, *, open_only: bool | None = None) -> list[IncidentRow]:
        """Incidents, latest first."""
        return await self.ledger.incidents(open_only=open_only)

    async def show(self, ref: str) -> IncidentView:
        """One incident by its handle (404 if unknown)."""
        row, state = await self._find(ref)
        members = tuple(m.complaint_id for m in sorted(state.members, key=lambda m: m.received_at))
        return IncidentView(row, members, state.sequence)

    async def close(self, ref: str, resolution: str, *, by: str) -> IncidentView:
        """Closed with what was done: operations and every member are told it is restored."""
        row, state = await self._open(ref)
        now = self.clock.now()
        event = changed(state, self.windows, IncidentChange.CLOSED, now=now, resolution=resolution)
        standing = Standing(closed_at=now, resolution=resolution, closed_by=by)
        await _whole(self._close(row.incident_id, event, standing))
        closed = replace(row, standing=standing)
        return IncidentView(closed, tuple(event.data.member_ids), event.data.sequence)

    async def _close(self, incident_id: str, event: IncidentChanged, standing: Standing) -> None:
        await self.publish([event])
        await self.ledger.close(incident_id, sequence=event.data.sequence, standing=standing)

    async def merge(self, ref: str, into: str, *, by: str) -> IncidentView:
        """Fold one incident into another: its members join the other one (told already, they
        get nothing new) and it takes no more members."""
        row, state = await self._open(ref)
        target_row, target = await self._open(into)
        if row.incident_id == target_row.incident_id:
            raise IncidentProblemError(422, "same_incident", "an incident cannot merge into itself")
        now = self.clock.now()
        merged = changed(
            state, self.windows, IncidentChange.MERGED, now=now, merged_into=target_row.incident_id
        )
        # The moved members were told under the merged incident: listed in `member_ids`, not
        # as `added_ids`, so the notifier tells none of them again (an update notice would go
        # under the other incident's key).
        grown = changed(_with_members(target, state), self.windows, IncidentChange.GROWN, now=now)
        standing = Standing(closed_at=now, merged_into=target_row.incident_id, closed_by=by)
        await _whole(self._merge(row.incident_id, target_row.incident_id, merged, grown, standing))
        return await self.show(into)

    async def _merge(
        self,
        source: str,
        target: str,
        merged: IncidentChanged,
        grown: IncidentChanged,
        standing: Standing,
    ) -> None:
        await self.publish([merged, grown])
        moving = merged.data.member_ids
        await self.ledger.take_in(target, moving, sequence=grown.data.sequence)
        await self.ledger.close(source, sequence=merged.data.sequence, standing=standing)

    async def split(self, ref: str, complaint_ids: Sequence[str], *, by: str) -> IncidentView:
        """Take mis-grouped complaints out of the incident (they are handled on their own)."""
        row, state = await self._open(ref)
        members = {m.complaint_id for m in state.members}
        if unknown := sorted(set(complaint_ids) - members):
            detail = f"not members of {ref}: {', '.join(unknown[:5])}"
            raise IncidentProblemError(422, "not_a_member", detail)
        if members <= set(complaint_ids):
            detail = "taking every member out leaves nothing: close the incident instead"
            raise IncidentProblemError(409, "would_be_empty", detail)
        remaining = IncidentState(
            incident_id=state.incident_id,
            members=tuple(m for m in state.members if m.complaint_id not in complaint_ids),
            announced=state.announced,
            sequence=state.sequence,
            opened_by=state.opened_by,
            opened_with=state.opened_with,
        )
        ids = sorted(set(complaint_ids))
        event = changed(
            remaining,
            self.windows,
            IncidentChange.MEMBER_REMOVED,
            now=self.clock.now(),
            removed=ids,
        )
        await _whole(self._split(row.incident_id, ids, event))
        log.info("incident members taken out", extra={"fields": {"incident": row.ref, "by": by}})
        return await self.show(ref)

    async def _split(self, incident_id: str, ids: list[str], event: IncidentChanged) -> None:
        await self.publish([event])
        await self.ledger.take_out(incident_id, ids, sequence=event.data.sequence)

    async def _find(self, ref: str) -> tuple[IncidentRow, IncidentState]:
        for row in await self.ledger.incidents():
            if ref in (row.ref, row.incident_id):
                [state] = await self.store.incident_states([row.incident_id])
                return row, state
        raise IncidentProblemError(404, "unknown_incident", f"no incident {ref[:40]!r}")

    async def _open(self, ref: str) -> tuple[IncidentRow, IncidentState]:
        row, state = await self._find(ref)
        if not row.standing.open:
            raise IncidentProblemError(409, "incident_closed", f"{row.ref} is closed already")
        return row, state


async def _whole(change: Coroutine[Any, Any, None]) -> None:
    """Run a publish-then-store change to its end even if the request is cut off (the HTTP
    guard's time budget): once published, it is also stored, and a retry is refused (409)."""
    await asyncio.shield(change)


def _with_members(target: IncidentState, source: IncidentState) -> IncidentState:
    known = {m.complaint_id for m in target.members}
    return IncidentState(
        incident_id=target.incident_id,
        members=(*target.members, *(m for m in source.members if m.complaint_id not in known)),
        announced=target.announced,
        sequence=target.sequence,
        opened_by=target.opened_by,
        opened_with=target.opened_with,
    )
