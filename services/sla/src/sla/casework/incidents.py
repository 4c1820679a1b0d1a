"""ResolveIncidentMembers: an incident's signed `closed` event resolves its open member cases.

Operations closing a mass incident (with its resolution) gave every member its result: each member
still before its result moves to `resolved` (`sla.domain.incident_close`) — its clocks until the
result met, the callback started (callbacks still happen, 001 Art. 53) — and publishes what a staff
`resolved` publishes: the `met` events, the `CaseStateChanged` and the case's snapshot. One batched
compare-and-set write per batch of members (`CaseStore.commit_many`), the due index written once
before it. The action id is the incident's close (`incident:<id>:closed`): a redelivered close
finds it in a member's history and republishes that member's stored events with their ids.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from contracts import CaseAction, Event, IncidentChange, IncidentChanged, LifecycleAction
from contracts.incidents import INCIDENT_ACTOR, incident_actor
from servicekit.bodies import Received
from servicekit.delivery import Rejection
from sla.casework.effects import apply_effects
from sla.casework.state_events import state_event
from sla.casework.work import CaseWork
from sla.clocks.due import earlier_entry
from sla.domain import Refusal
from sla.domain.incident_close import resolve_for_incident
from sla.ports import CaseChange, CaseRecord, LogEntry, after
from sla.snapshots import with_snapshots

log = logging.getLogger(__name__)
BATCH = 200  # members per batched write
ATTEMPTS = 5  # members whose compare-and-set was lost to a concurrent change are tried again


def close_action(incident: IncidentChanged, member: str) -> CaseAction:
    """The `resolved` an incident's close is for one member (deterministic id: redelivery-safe)."""
    data = incident.data
    return CaseAction(
        complaint_id=member,
        action=LifecycleAction.RESOLVED,
        action_id=f"{INCIDENT_ACTOR}{data.incident_id}:closed",
        actor=incident_actor(data.incident_id),
        occurred_at=data.closed_at or incident.time,
        result="mass incident closed by operations",  # its resolution text is for staff only
    )


@dataclass
class ResolveIncidentMembers(CaseWork):
    """Resolves the open member cases of closed incidents."""

    async def on_incidents(self, messages: Sequence[Received[IncidentChanged]]) -> list[Rejection]:
        """Resolve the members of every closed incident in the batch; other changes are not
        the SLA's business (opened, grown, merged, member removed)."""
        incidents = [message.body for message in messages]
        actions = [
            close_action(incident, member)
            for incident in incidents
            if incident.data.change is IncidentChange.CLOSED and incident.data.resolution
            for member in dict.fromkeys(incident.data.member_ids)
        ]
        for start in range(0, len(actions), BATCH):
            await self._resolve(actions[start : start + BATCH])
        return []

    async def _resolve(self, actions: list[CaseAction]) -> None:
        """One batch of members: read in one go, written in one batched write, published."""
        pending = {a.complaint_id: a for a in actions}
        events: list[Event] = []
        states: list[CaseRecord] = []
        for _ in range(ATTEMPTS):
            if not pending:
                break
            known = await self.cases.load_many(list(pending), log=False)
            changes: list[tuple[CaseRecord, CaseChange]] = []
            for cid, action in list(pending.items()):
                record = known.get(cid)
                done = record is not None and any(
                    h.action_id == action.action_id for h in record.case.history
                )
                if record is None or done:
                    del pending[cid]  # unknown here, or resolved by this close before
                    if record is not None:
                        states.append(record)
                        events += await self._stored_events(cid, action.action_id)
                    continue
                change = self._change(record, action)
                if change is None:
                    del pending[cid]
                    continue
                changes.append((record, change))
            await self.index.add(
                [e for r, c in changes for e in earlier_entry(r.complaint_id, r.clocks, c.clocks)],
                now=self.clock.now(),
            )  # before the cases: a due time is never missed
            won = await self.cases.commit_many(changes) if changes else set()
            for record, change in changes:
                if record.complaint_id in won:
                    del pending[record.complaint_id]
                    events += change.entry.events
                    states.append(after(record, change))
                    self.metrics.lifecycle.labels("incident_closed", "accepted").inc()
        if pending:
            left = {"left": len(pending)}
            log.warning("incident close: members kept changing", extra={"fields": left})
        await self.publish(with_snapshots(events, states, at=self.clock.now()))

    def _change(self, record: CaseRecord, action: CaseAction) -> CaseChange | None:
        step = resolve_for_incident(record.case, action, policy=self.policy, calendar=self.calendar)
        if isinstance(step, Refusal):
            self.metrics.lifecycle.labels("incident_closed", "not_resolvable").inc()
            return None
        sheet = apply_effects(record, action, step, policy=self.policy, calendar=self.calendar)
        entry = LogEntry(
            action.action_id,
            action.occurred_at,
            (*sheet.events, state_event(record, action, step, None)),
        )
        return CaseChange(
            case=step.case, clocks=sheet.sheet, entry=entry, resolved_at=action.occurred_at
        )

    async def _stored_events(self, cid: str, entry_id: str) -> list[Event]:
        """A redelivered close: the member's stored events, republished with their ids."""
        whole = await self.cases.load(cid)
        stored = whole.entry(entry_id) if whole is not None else None
        return list(stored.events) if stored is not None else []
