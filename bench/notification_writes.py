"""What the local FerretDB charges per notification for the two ways of recording a delivery
sent at once (ADR 0038):

- `claim+update`: the claim (a batched insert of a 'sending' document) before the send, then the
  outcome (an `update` of the batch's keys by `_id $in`) — two writes per delivery;
- `check+insert`: a read of the batch's keys by `_id $in` (nothing found: none was stored before),
  then, after the send, one batched insert of each document with its outcome;
- `insert`: the insert with its outcome alone (what the second way costs beyond its read).

It starts a private FerretDB of the local build on an empty directory, stores `--stored`
settled notifications first (a store that has been running), then per way `--deliveries`
customer acknowledgements in batches of `--batch`, and prints the server's CPU (from /proc:
robust on a shared machine) per delivery, the ways alternated `--rounds` times.

    python bench/notification_writes.py --deliveries 3000   # in your network namespace
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta
from pathlib import Path

from pymongo import MongoClient

from contracts import DeliveryStatus
from notifier.adapters import mongo_documents as shapes
from notifier.adapters.mongo import DUE_INDEX
from notifier.domain import Delivery
from notifier.ports import Outcome

sys.path.insert(0, str(Path(__file__).resolve().parent))

from notification_shape import T0, acknowledgement
from scratch_ferretdb import Doc, measure, scratch_server

PORT = 27093
WAYS = ("claim+update", "check+insert", "insert")


def delivered(delivery: Delivery) -> Outcome:
    """The outcome of an SMS accepted by the gateway at the first attempt."""
    return Outcome(delivery, "sms", DeliveryStatus.DELIVERED, 1, None, 12.0)


def run_way(
    client: MongoClient[Doc], pid: int, way: str, first: int, args: argparse.Namespace
) -> float:
    """ms of server CPU per delivery recorded the way `way` (deliveries numbered from `first`)."""
    coll = client["writes"]["notifications"]
    deliveries = [acknowledgement(n) for n in range(first, first + args.deliveries)]
    lease = T0 + timedelta(seconds=30)
    shape = shapes.outcome_shape(delivered(deliveries[0]))

    def work() -> int:
        for start in range(0, len(deliveries), args.batch):
            batch = deliveries[start : start + args.batch]
            keys = [d.key for d in batch]
            if way == "claim+update":
                coll.insert_many(
                    [shapes.claim_document(d, now=T0, lease_until=lease) for d in batch],
                    ordered=False,
                )
                coll.bulk_write([shapes.completion(shape, keys, T0)], ordered=False)
                continue
            if way == "check+insert":
                found = list(coll.find({"_id": {"$in": keys}}, {"_id": 1}))
                if found:
                    raise SystemExit(f"{way}: {len(found)} keys stored before")
            docs = [
                shapes.claim_document(d, now=T0, lease_until=lease, outcome=delivered(d))
                for d in batch
            ]
            coll.insert_many(docs, ordered=False)
        return len(deliveries)

    done, seconds = measure(pid, work)
    return seconds * 1000 / done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--deliveries", type=int, default=3000)
    parser.add_argument("--stored", type=int, default=10000, help="settled documents first")
    parser.add_argument("--batch", type=int, default=200, help="deliveries per handler batch")
    parser.add_argument("--rounds", type=int, default=2, help="each way, alternated")
    args = parser.parse_args(argv)
    with scratch_server(PORT, "notification-writes-") as (client, pid):
        coll = client["writes"]["notifications"]
        coll.create_index([("complaint_id", 1)])
        coll.create_index(DUE_INDEX)
        base = 10_000_000
        for start in range(0, args.stored, 500):
            batch = [acknowledgement(base + n) for n in range(start, min(args.stored, start + 500))]
            coll.insert_many(
                [
                    shapes.claim_document(d, now=T0, lease_until=T0, outcome=delivered(d))
                    for d in batch
                ]
            )
        print(
            f"load average {os.getloadavg()[0]:.2f}; {args.stored} stored before; "
            f"{args.deliveries} deliveries per way, batches of {args.batch}"
        )
        print("way          | server ms CPU per delivery")
        first = 0
        for _ in range(args.rounds):
            for way in WAYS:
                print(f"{way:12} | {run_way(client, pid, way, first, args):.3f}", flush=True)
                first += args.deliveries
        if coll.count_documents({"status": DeliveryStatus.DELIVERED.value}) != first + args.stored:
            raise SystemExit("not every delivery was stored as delivered")
    return 0


if __name__ == "__main__":
    sys.exit(main())
