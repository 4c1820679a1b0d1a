"""The notification document (ADR 0032): what a claim stores, what an outcome sets, and the
delivery and outcome read back (also from documents stored before, every field plain)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pymongo import UpdateMany

from contracts import Audience, DeliveryStatus, Severity
from notifier.domain import Delivery, Intent, Origin, Recipient
from notifier.ports import Outcome
from servicekit.mongo import Document

SENDING = "sending"
PACKED = "x"
"""What only a resend or a republished receipt reads, one JSON text."""
OutcomeShape = tuple[DeliveryStatus, str, int, str | None, datetime | None]
"""What alike outcomes share: status, channel, attempts, reason, wait."""


def claim_document(
    delivery: Delivery, *, now: datetime, lease_until: datetime, outcome: Outcome | None = None
) -> Document:
    """The claim: everything needed to send (or resend) the delivery later; with a decided
    outcome, the document as `complete` would leave it (stored at `now`)."""
    doc = _claim(delivery, now=now, lease_until=lease_until)
    if outcome is None:
        return doc
    fields, gone = _outcome_fields(outcome, now)
    doc |= fields
    for name in gone:
        doc.pop(name, None)
    if outcome.deliver_after is not None:
        return doc | {"lease_until": outcome.deliver_after}
    doc.pop("address", None)  # settled: the address is not kept
    return doc


def _claim(delivery: Delivery, *, now: datetime, lease_until: datetime) -> Document:
    intent, recipient = delivery.intent, delivery.recipient
    doc: Document = {
        "_id": delivery.key,
        "complaint_id": intent.complaint_id,
        "audience": intent.audience.value,
        "template": intent.template,
        "status": SENDING,
        "claimed_at": now,
        "lease_until": lease_until,
        PACKED: pack(delivery),
    }
    if recipient is not None:
        doc["address"] = recipient.address
    return doc


def pack(delivery: Delivery) -> str:
    """The delivery but its plain fields, as one JSON text: FerretDB decodes and re-encodes
    every element of a row it touches, and these ~15 are read only to resend or to republish.
    Text, not binary, so the erasure (ADR 0017) finds an identifier in the values here too."""
    intent, recipient, origin = delivery.intent, delivery.recipient, delivery.intent.origin
    packed: dict[str, Any] = {"t": intent.trigger_time.isoformat(), "c": intent.context}
    if intent.key != delivery.key:
        packed["k"] = intent.key
    if intent.severity is not None:
        packed["s"] = intent.severity.value
    if intent.digestible:
        packed["d"] = 1
    if intent.acknowledgement:
        packed["a"] = 1
    if origin is not None:
        packed["o"] = [origin.topic, origin.partition, origin.offset]
    if recipient is not None:
        packed["r"] = [recipient.id, recipient.channel, recipient.shown]
    return json.dumps(packed, ensure_ascii=False, separators=(",", ":"))


def delivery_from(doc: Document) -> Delivery:
    """The delivery a claim document describes (packed, or every field plain as stored
    before ADR 0032)."""
    if PACKED not in doc:
        return _plain_delivery(doc)
    packed = json.loads(doc[PACKED])
    origin, shown = packed.get("o"), packed.get("r")
    intent = Intent(
        key=packed.get("k", doc["_id"]),
        complaint_id=doc["complaint_id"],
        audience=Audience(doc["audience"]),
        template=doc["template"],
        trigger_time=datetime.fromisoformat(packed["t"]),
        context=dict(packed["c"]),
        severity=Severity(packed["s"]) if "s" in packed else None,
        digestible="d" in packed,
        acknowledgement="a" in packed,
        origin=Origin(origin[0], origin[1], origin[2]) if origin else None,
    )
    recipient = Recipient(shown[0], shown[1], doc.get("address") or "", shown[2]) if shown else None
    return Delivery(doc["_id"], intent, recipient)


def _plain_delivery(doc: Document) -> Delivery:
    origin = doc.get("origin")
    intent = Intent(
        key=doc["intent_key"],
        complaint_id=doc["complaint_id"],
        audience=Audience(doc["audience"]),
        template=doc["template"],
        trigger_time=doc["trigger_time"],
        context=dict(doc.get("context") or {}),
        severity=Severity(doc["severity"]) if doc.get("severity") else None,
        digestible=bool(doc.get("digestible")),
        acknowledgement=bool(doc.get("acknowledgement")),
        origin=Origin(origin["topic"], origin["partition"], origin["offset"]) if origin else None,
    )
    raw: Any = doc.get("recipient")
    recipient = (
        Recipient(raw["id"], raw["channel"], doc.get("address") or "", raw["shown"])
        if raw
        else None
    )
    return Delivery(doc["_id"], intent, recipient)


def outcome_from(doc: Document) -> Outcome:
    """The stored outcome of a settled or deferred delivery (its latency derived from the
    time it was stored, as when it was first published)."""
    outcome = Outcome(
        delivery=delivery_from(doc),
        channel=doc["channel"],
        status=DeliveryStatus(doc["status"]),
        attempts=doc.get("attempts", 0),
        reason=doc.get("reason"),
        latency_ms=None,
        deliver_after=doc.get("deliver_after"),
    )
    return outcome.stored_at(doc["completed_at"])


def outcome_shape(outcome: Outcome) -> OutcomeShape:
    """What `complete` groups alike outcomes by."""
    o = outcome
    return (o.status, o.channel, o.attempts, o.reason, o.deliver_after)


def _outcome_fields(outcome: Outcome, now: datetime) -> tuple[Document, list[str]]:
    """The outcome's fields to set, and those to remove (unset: no reason, no wait)."""
    return _fields(outcome_shape(outcome), now)


def _fields(shape: OutcomeShape, now: datetime) -> tuple[Document, list[str]]:
    status, channel, attempts, reason, deliver_after = shape
    fields: Document = {
        "status": status.value,
        "channel": channel,
        "attempts": attempts,
        "completed_at": now,
    }
    gone = []
    for name, value in (("reason", reason), ("deliver_after", deliver_after)):
        if value is None:
            gone.append(name)
        else:
            fields[name] = value
    return fields, gone


def completion(shape: OutcomeShape, keys: list[str], now: datetime) -> UpdateMany:
    """One statement storing the outcome `shape` on `keys`: a settled one forgets its address,
    a deferred one waits with its lease."""
    fields, gone = _fields(shape, now)
    where = {"_id": {"$in": keys}}
    deliver_after = shape[4]
    if deliver_after is not None:
        fields["lease_until"] = deliver_after
    else:
        gone.append("address")
    if not gone:
        return UpdateMany(where, {"$set": fields})
    return UpdateMany(where, {"$set": fields, "$unset": dict.fromkeys(gone, "")})
