"""Incident faults for the fault suite (issue 17): the notifier killed during an incident's fan-out.

A `Fault` of scripts/faults.py: halfway through the steady load it publishes forty complaints about
one outage (different wordings, no shared place name), SIGKILLs the notifier as soon as the first
incident notice reaches the receiver, starts it again, and waits until every member was told. It
records a FAILED note unless each member got exactly one incident notice and operations exactly
one opening alert; the suite's own count then finds no notification key delivered twice. Notices
the gateway accepted just before the kill go out again under their key and are dropped there
(the channel contract, notifier.channels.base); the notes say how many, and how long after the
kill every member had been told (claims of the dead sender come due within one lease).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pymongo import AsyncMongoClient

from complaints_cli import workload
from complaints_cli.outage import outage_message
from complaints_cli.pipeline import Pipeline, StackConfig
from complaints_cli.receiver import Receiver
from servicekit.mongo import find_all

NOTICES = {"acknowledgement_incident", "customer_incident_notice"}
ENV = {"NOTIFIER_QUIET_HOURS": "off"}
"""The notice to members acknowledged before the incident opened is an update, not an
acknowledgement: in the pack's quiet hours (21:00–08:00 Beijing, 13:00–00:00 UTC) it waits for
the morning, as it should, and the fault would fail by the clock, not by the kill."""
MEMBERS = 40
WAIT = 180.0


class Run(Protocol):
    """What scripts/faults.py hands a fault (its `Run`)."""

    pipeline: Pipeline
    receiver: Receiver
    config: StackConfig
    notes: list[str]


def outage(run_id: str) -> list[workload.RawMessage]:
    """Forty complaints about one outage over the last ten minutes, each its own phone."""
    start = datetime.now(UTC) - timedelta(minutes=10)
    return [
        outage_message(run_id, index, start + timedelta(seconds=15 * index), streets=False)
        for index in range(MEMBERS)
    ]


def _check(ok: bool, what: str) -> None:
    """The suite turns an AssertionError of a fault into its FAILED note."""
    if not ok:
        raise AssertionError(what)


async def _until(condition: Any, limit: float) -> bool:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > limit:
            return False
        await asyncio.sleep(0.02)
    return True


async def _stored_notices(
    client: AsyncMongoClient[dict[str, Any]], run: Run, untold: list[str]
) -> str:
    """What the notifier stored for the members never told (ids, templates and states only), so
    that a failure says where the notice stopped: never planned, deferred, or claimed and lost."""
    db = client[run.config.database]
    fields = {"_id": 0, "complaint_id": 1, "template": 1, "audience": 1, "status": 1}
    docs = await find_all(db["notifications"], {"complaint_id": {"$in": untold}}, fields)
    seen = Counter(
        (str(d.get("complaint_id")), str(d.get("template")), str(d.get("status"))) for d in docs
    )
    decided = await find_all(db["classifications"], {"_id": {"$in": untold}}, {"incident_id": 1})
    incidents = {str(d["_id"]): d.get("incident_id") for d in decided}
    return (
        f"{len(untold)} untold {untold[:5]}; their stored notifications {dict(seen)}; "
        f"their decisions' incident {incidents}"
    )


async def notifier_killed_during_fanout(run: Run) -> None:
    """Kill the notifier when the first incident notice arrives; every member still told once."""
    run_id = f"outage{secrets.token_hex(3)}"
    sent = await workload.publish(outage(run_id), bootstrap=run.config.kafka)
    _check(sent == MEMBERS, f"the broker took {sent} of {MEMBERS} outage complaints")

    def notices() -> list[str]:
        return [d.complaint_id for d in run.receiver.deliveries if d.template in NOTICES]

    def opening() -> list[object]:
        return [d for d in run.receiver.deliveries if d.template == "staff_incident_opened"]

    _check(await _until(notices, WAIT), "no incident notice within 180 s")
    [victim] = [p for p in run.pipeline.processes if p.name == "notifier" and p.replica == 0]
    run.pipeline.kill(victim)
    killed_at = time.monotonic()
    before = len(notices())
    run.pipeline.processes.remove(victim)
    await asyncio.sleep(2.0)
    run.pipeline.start("notifier", replica=0)
    run.notes.append(f"notifier killed after {before} incident notices")
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(run.config.mongo, tz_aware=True)
    try:
        query = {"external_id": {"$regex": f"^{run_id}-"}}
        docs = await find_all(client[run.config.database]["complaints"], query, {"_id": 1})
        ids = {str(d["_id"]) for d in docs}
        _check(len(ids) == MEMBERS, f"{len(ids)} of {MEMBERS} outage complaints taken in")
        if not await _until(lambda: ids <= set(notices()), WAIT):
            untold = sorted(ids - set(notices()))
            raise AssertionError(
                f"a member was never told: {await _stored_notices(client, run, untold)}"
            )
        run.notes.append(f"all told {time.monotonic() - killed_at:.0f} s after the kill")
        # The opening alert may have been claimed by the killed sender: it goes again once that
        # claim's lease runs out, which can be after the last member was told.
        _check(await _until(opening, WAIT), "operations never told of the opening")
        await asyncio.sleep(3.0)  # late duplicates, if any
    finally:
        await client.close()
    told = Counter(c for c in notices() if c in ids)
    _check(set(told.values()) == {1}, f"notices per member: {sorted(set(told.values()))}")
    _check(len(opening()) == 1, f"operations told of the opening {len(opening())} times")
    run.notes.append(
        f"{MEMBERS} members, one notice each; {run.receiver.replayed} re-sent copies dropped "
        "on Idempotency-Key"
    )
