"""What the local FerretDB charges for the notifier's per-delivery writes, by the shape of the
notification document.

The notifier writes each delivery twice: the claim (a batched insert) and its outcome (an
`update` of the batch's keys by `_id $in`), and reads a batch back by `_id $in` when a key was
claimed before (a redelivery). FerretDB's SQLite backend decodes and re-encodes every element of
a row it touches (bench/doc_shape.py, ADR 0023), so the number of elements is the cost. This
starts a private FerretDB of the local build on an empty directory and, per shape, stores
`--deliveries` customer acknowledgements as the pipeline bench brings them (one per complaint,
in batches of `--batch`), completes them as delivered, and reads them back; it prints the
server's CPU (from /proc: robust on a shared machine) per document for each step:

- `plain`: the document as stored before ADR 0032 (every field of the delivery plain);
- `packed`: ADR 0032: the read-model, index and erasure fields plain, what only a resend or a
  republished receipt reads (intent, context, origin, recipient) one JSON text.

    python bench/notification_shape.py --deliveries 3000   # in your network namespace
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bson import encode
from pymongo import MongoClient, UpdateMany

from contracts import Audience, DeliveryStatus, Severity
from notifier.adapters import mongo_documents as shapes
from notifier.adapters.mongo import DUE_INDEX
from notifier.domain import Delivery, Intent, Origin, Recipient
from notifier.ports import Outcome

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scratch_ferretdb import Doc, measure, scratch_server

PORT = 27092
T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def acknowledgement(n: int) -> Delivery:
    """A customer's SMS acknowledgement as the router makes it for an ordinary complaint."""
    cid = f"CP20261207-{n:010d}"
    intent = Intent(
        key=f"{cid}:ack:-:-:customer",
        complaint_id=cid,
        audience=Audience.CUSTOMER,
        template="acknowledgement",
        trigger_time=T0 + timedelta(milliseconds=n),
        context={
            "case": cid,
            "severity": "P3",
            "severity_label": "重要",
            "promised": "2026-12-10 18:00",
        },
        severity=Severity.P3,
        acknowledgement=True,
        origin=Origin("complaints.sla.v1", n % 6, n),
    )
    phone = f"+86138{n:08d}"
    return Delivery(intent.key, intent, Recipient("customer", "sms", phone, "138****" + phone[-4:]))


def plain_claim(delivery: Delivery, *, now: datetime, lease_until: datetime) -> Doc:
    """The claim as stored before ADR 0032: every field of the delivery plain."""
    intent, recipient, origin = delivery.intent, delivery.recipient, delivery.intent.origin
    return {
        "_id": delivery.key,
        "intent_key": intent.key,
        "complaint_id": intent.complaint_id,
        "audience": intent.audience.value,
        "template": intent.template,
        "context": dict(intent.context),
        "severity": intent.severity.value if intent.severity else None,
        "digestible": intent.digestible,
        "acknowledgement": intent.acknowledgement,
        "trigger_time": intent.trigger_time,
        "origin": (
            {"topic": origin.topic, "partition": origin.partition, "offset": origin.offset}
            if origin
            else None
        ),
        "recipient": (
            {"id": recipient.id, "channel": recipient.channel, "shown": recipient.shown}
            if recipient
            else None
        ),
        "address": recipient.address if recipient else None,
        "status": shapes.SENDING,
        "claimed_at": now,
        "lease_until": lease_until,
    }


def plain_completion(shape: shapes.OutcomeShape, keys: list[str], now: datetime) -> UpdateMany:
    """A settled outcome's statement as written before ADR 0032 (every field set)."""
    status, channel, attempts, reason, deliver_after = shape
    fields = {
        "status": status.value,
        "channel": channel,
        "attempts": attempts,
        "reason": reason,
        "deliver_after": deliver_after,
        "completed_at": now,
    }
    return UpdateMany({"_id": {"$in": keys}}, {"$set": fields, "$unset": {"address": ""}})


def run_shape(client: MongoClient[Doc], pid: int, shape: str, count: int, batch: int) -> Doc:
    """Claims, outcomes and a read-back of `count` deliveries; ms of server CPU per document."""
    coll = client["shapes"][shape]
    coll.drop()
    coll.create_index([("complaint_id", 1)])
    coll.create_index(DUE_INDEX)
    deliveries = [acknowledgement(n) for n in range(count)]
    lease = T0 + timedelta(seconds=30)
    claim = plain_claim if shape == "plain" else shapes.claim_document
    completion = plain_completion if shape == "plain" else shapes.completion
    docs = [claim(d, now=T0, lease_until=lease) for d in deliveries]
    keys = [d.key for d in deliveries]
    out: Doc = {"elements": _elements(docs[0]), "bytes": len(encode(docs[0]))}
    delivered = shapes.outcome_shape(
        Outcome(deliveries[0], "sms", DeliveryStatus.DELIVERED, 1, None, 12.0)
    )

    def insert() -> int:
        for start in range(0, count, batch):
            coll.insert_many(docs[start : start + batch], ordered=False)
        return count

    def complete() -> int:
        for start in range(0, count, batch):
            statement = completion(delivered, keys[start : start + batch], T0)
            coll.bulk_write([statement], ordered=False)
        return count

    def read() -> int:
        for start in range(0, count, batch):
            got = list(coll.find({"_id": {"$in": keys[start : start + batch]}}))
            if len(got) != len(keys[start : start + batch]):
                raise SystemExit(f"{shape}: a read returned {len(got)} documents")
            if any(shapes.outcome_from(d).status is not DeliveryStatus.DELIVERED for d in got):
                raise SystemExit(f"{shape}: an outcome was not stored")
        return count

    for name, work in (("insert", insert), ("complete", complete), ("read", read)):
        done, seconds = measure(pid, work)
        out[name] = seconds * 1000 / done
    settled = coll.find_one({"_id": keys[0]})
    out["settled elements"] = _elements(settled or {})
    return out


def _elements(value: Any) -> int:
    if isinstance(value, dict):
        return sum(1 + _elements(v) for v in value.values())
    if isinstance(value, list):
        return sum(1 + _elements(v) for v in value)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--deliveries", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=200, help="deliveries per handler batch")
    parser.add_argument("--rounds", type=int, default=2, help="each shape, alternated")
    args = parser.parse_args(argv)
    with scratch_server(PORT, "notification-shape-") as (client, pid):
        print(f"load average {os.getloadavg()[0]:.2f}; {args.deliveries} deliveries per shape")
        print("shape  | elements (settled) | doc B | insert ms/doc | complete ms/doc | read ms/doc")
        for _ in range(args.rounds):
            for shape in ("plain", "packed"):
                r = run_shape(client, pid, shape, args.deliveries, args.batch)
                print(
                    f"{shape:6} | {r['elements']:8} ({r['settled elements']:3}) | {r['bytes']:5} |"
                    f" {r['insert']:13.3f} | {r['complete']:15.3f} | {r['read']:11.3f}",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
