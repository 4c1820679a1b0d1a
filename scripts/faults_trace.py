"""Where a failed fault scenario's missing complaints stopped: read from the store and the topics.

A scenario that does not recover prints, per complaint it left short of its last stage, what the
pipeline holds of it: the classifier's decision, the SLA's case, the notifier's rows, and the
records on the classified, SLA, notification-receipt and dead-letter topics since the scenario
began — and, from those, the first stage it did not reach. Nothing personal is read or printed.
"""

from __future__ import annotations

import base64
import json
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from complaints_cli.receiver import Receiver
from complaints_cli.topics import end_offsets, read_all
from contracts import Topic
from contracts.read_models import (
    CASE_DELIVERIES,
    CASE_SHEETS,
    CLASSIFICATIONS,
    COMPLAINT_RECEIPTS,
)
from servicekit.read_models import documents

TRACED = (Topic.CLASSIFIED, Topic.SLA, Topic.NOTIFICATION_SENT, Topic.DLQ)
"""The topics a trace reads (from the offsets taken when the scenario began)."""

Offsets = dict[Topic, dict[int, int]]


async def offsets(bootstrap: str) -> Offsets:
    """Each traced topic's end offsets now: a trace reads only what came after."""
    return {topic: await end_offsets(bootstrap, topic) for topic in TRACED}


@dataclass
class Trace:
    """What the pipeline holds of one complaint."""

    complaint_id: str
    kind: str | None = None
    duplicate: bool = False
    case: str | None = None
    notifications: list[str] = field(default_factory=list)
    events: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    @property
    def stopped(self) -> str:
        """The first stage this complaint did not reach."""
        acks = [n for n in self.notifications if n.startswith("customer:acknowledg")]
        complaint = self.kind == "complaint"
        stages = (
            (self.kind is not None, "stored by intake, not classified"),
            (bool(self.events[Topic.CLASSIFIED]), "classified (stored), no classified event"),
            (not complaint or self.case is not None, "classified, no case stored by the SLA"),
            (not complaint or "set" in self.events[Topic.SLA], "case stored, no `set` event"),
            (bool(acks), "no acknowledgement claimed by the notifier"),
            (any(n.endswith(":sent") for n in acks), f"acknowledgement not sent ({acks})"),
            (bool(self.events[Topic.NOTIFICATION_SENT]), "sent, no receipt on the topic"),
        )
        return next((why for reached, why in stages if not reached), "receipted, not received")

    def line(self) -> str:
        """One line a person reads."""
        seen = "; ".join(f"{t.split('.')[-2]}: {','.join(v)}" for t, v in self.events.items() if v)
        return (
            f"  {self.complaint_id}: {self.stopped} — kind {self.kind}, case {self.case}, "
            f"notifications [{', '.join(self.notifications)}]; topics {seen or 'none'}"
        )


async def missing(
    db: AsyncDatabase[dict[str, Any]], receiver: Receiver, *, run_id: str
) -> dict[str, Trace]:
    """The run's complaints that did not reach their last stage, with what the store holds."""
    query = {"external_id": {"$regex": f"^{re.escape(run_id)}-"}}
    ids = [d["_id"] for d in await documents(db, COMPLAINT_RECEIPTS, query)]
    acked = set(receiver.customer_acks())
    traces = {cid: Trace(cid) for cid in ids}
    for doc in await documents(db, CLASSIFICATIONS, {"_id": {"$in": ids}}):
        trace = traces[doc["_id"]]
        trace.kind, trace.duplicate = doc.get("kind"), bool(doc.get("duplicate_of"))
    for doc in await documents(db, CASE_SHEETS, {"_id": {"$in": ids}}):
        traces[doc["_id"]].case = doc.get("state")
    short = {
        cid: t
        for cid, t in traces.items()
        if t.kind is None or (not t.duplicate and (cid not in acked or _unclocked(t)))
    }
    for doc in await documents(db, CASE_DELIVERIES, {"complaint_id": {"$in": list(short)}}):
        note = f"{doc['audience']}:{doc['template']}:{doc['status']}"
        short[doc["complaint_id"]].notifications.append(note)
    return short


def _unclocked(trace: Trace) -> bool:
    return trace.kind == "complaint" and trace.case is None


async def read_topics(bootstrap: str, since: Offsets, traces: Mapping[str, Trace]) -> None:
    """Add each traced complaint's records since `since` (event kind, receipt status, DLQ)."""
    for topic in TRACED:
        async for value in read_all(bootstrap, topic, since.get(topic)):
            try:
                event = json.loads(value)
            except ValueError:
                continue
            data = event.get("data") if isinstance(event, dict) else None
            if not isinstance(data, dict):
                continue
            cid = event.get("subject") or data.get("complaint_id") or data.get("key")
            if topic is Topic.DLQ:
                cid = _dead_letter_subject(data, traces) or cid
            if isinstance(cid, str) and cid in traces:
                traces[cid].events[topic].append(_what(topic, data))


def _what(topic: Topic, data: Mapping[str, Any]) -> str:
    if topic is Topic.SLA:
        return str(data.get("event"))
    if topic is Topic.NOTIFICATION_SENT:
        return f"{data.get('template')}:{data.get('status')}"
    if topic is Topic.DLQ:
        return f"{data.get('service')}:{data.get('original_topic')}:{data.get('reason')}"
    return str(data.get("kind", "event"))


def _dead_letter_subject(data: Mapping[str, Any], traces: Mapping[str, Trace]) -> str | None:
    """A dead letter's complaint: its key, else an id its payload names."""
    if isinstance(data.get("key"), str) and data["key"] in traces:
        return str(data["key"])
    try:
        payload = base64.b64decode(str(data.get("payload_base64") or ""))
    except ValueError:
        return None
    return next((cid for cid in traces if cid.encode() in payload), None)


async def report(
    db: AsyncDatabase[dict[str, Any]],
    receiver: Receiver,
    *,
    run_id: str,
    bootstrap: str,
    since: Offsets,
    sent: int,
) -> list[str]:
    """The lines a failed scenario prints: how many never reached intake, then each short one."""
    traces = await missing(db, receiver, run_id=run_id)
    await read_topics(bootstrap, since, traces)
    lines = [f"  stopped short: {len(traces)} complaint(s)"]
    query = {"external_id": {"$regex": f"^{re.escape(run_id)}-"}}
    stored = len(await documents(db, COMPLAINT_RECEIPTS, query))
    if stored < sent:
        lines.append(f"  {sent - stored} of {sent} sent never stored by intake")
    lines += [t.line() for t in traces.values()]
    return lines
