"""Staff actions for the SLA's handler tests: built, delivered in one batch, and looked at."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from contracts import CaseAction, CaseActionTaken, LifecycleAction, Topic
from servicekit.bodies import deliver
from sla.clocks.sheet import ClockEntry
from sla.handlers import LIFECYCLE
from tests._builders.sla import CID, RECEIVED, Rig

KEY = "ck_" + "a" * 32
"""The complainant key of the actions' case."""


def action(
    kind: LifecycleAction,
    at: datetime,
    *,
    action_id: str | None = None,
    cid: str = CID,
    **fields: Any,
) -> CaseActionTaken:
    """A staff action on `cid` at `at`."""
    data = CaseAction(
        complaint_id=cid,
        action=kind,
        action_id=action_id or f"{kind.value}-{at.isoformat()}",
        actor="handler-7",
        occurred_at=at,
        **fields,
    )
    return CaseActionTaken.build(
        data=data, subject=cid, source="/crm", time=at, cause=data.action_id
    )


async def act(rig: Rig, *events: CaseActionTaken | bytes) -> None:
    """Deliver staff actions in one batch (raw bytes for hostile input)."""
    messages = [
        rig.inbound(e if isinstance(e, bytes) else e.model_dump_json().encode(), Topic.LIFECYCLE)
        for e in events
    ]
    assert await deliver(LIFECYCLE, rig.actions.on_lifecycle, messages) == []


def at(hours: float) -> datetime:
    """`hours` after receipt."""
    return RECEIVED + timedelta(hours=hours)


def entry(rig: Rig, key: str, cid: str = CID) -> ClockEntry:
    """The stored clock entry `key` (`resolution:1`) of the case."""
    return next(c for c in rig.memory.records[cid].clocks if c.key == key)
