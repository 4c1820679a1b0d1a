"""The notification log in MongoDB (or FerretDB): claims, outcomes, deferrals, leases."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from contracts import DeliveryStatus
from notifier.adapters.mongo_documents import (
    SENDING,
    OutcomeShape,
    claim_document,
    completion,
    delivery_from,
    outcome_from,
    outcome_shape,
)
from notifier.domain import Delivery
from notifier.ports import Claims, Due, DueRound, Outcome
from servicekit.mongo import Document, ensure_index, find_all, insert_new, write_in_chunks

KEYS_PER_STATEMENT = 500
"""Keys per `_id $in` outcome statement (as many as one batch insert holds)."""
WAITING = [SENDING, DeliveryStatus.DEFERRED.value]
DUE_INDEX = [("status", ASCENDING), ("lease_until", ASCENDING)]
"""The dispatcher's index: a status's rows in the order they come due."""
PROBE = 16
"""Rows a due poll reads first per status (most of the rows in flight are not due)."""


class MongoNotificationLog:
    """Claims by inserting the key: the unique `_id` makes a second claim fail.

    The document keeps what is needed to send later (template, values, recipient); the raw
    address is removed once the delivery is settled. Plain are only the fields queried, indexed,
    declared (`NOTIFICATION_OUTCOMES`, `CASE_DELIVERIES`, the erasure's `complaint_id` and
    `address`) and the outcome's; the rest of the delivery is one JSON text (ADR 0032).
    """

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._notifications = db["notifications"]

    async def ensure_indexes(self) -> None:
        """Per-complaint history; the dispatcher's due query."""
        await ensure_index(self._notifications, [("complaint_id", ASCENDING)])
        await ensure_index(self._notifications, DUE_INDEX)

    async def claim(
        self,
        deliveries: Sequence[Delivery],
        *,
        now: datetime,
        lease_until: datetime,
        decided: Mapping[str, Outcome] | None = None,
        send_first: AbstractSet[str] = frozenset(),
    ) -> Claims:
        """Insert a 'sending' claim per delivery, or its decided outcome (one batch); taken
        keys and the `send_first` ones are read in one `$in` read: stale claims are taken over
        (a conditional update each, rare), stored outcomes come back for their receipts, and a
        `send_first` key no document has is fresh (nothing written for it yet)."""
        by_key = {d.key: d for d in deliveries}
        if not by_key:
            return Claims([], [])
        known = decided or {}
        docs = [
            claim_document(d, now=now, lease_until=lease_until, outcome=known.get(k))
            for k, d in by_key.items()
            if k not in send_first or k in known
        ]
        taken = await insert_new(self._notifications, docs) if docs else set()
        looked_up = {k for k in by_key if k in send_first and k not in known}
        new = [k for k in by_key if k not in taken and k not in looked_up]
        claimed = [by_key[k] for k in new if k not in known]
        stored = [known[k].stored_at(now) for k in new if k in known]
        if not taken and not looked_up:
            return Claims(claimed, [], 0, stored)
        settled, held, found = [], 0, set()
        for doc in await find_all(self._notifications, {"_id": {"$in": sorted(taken | looked_up)}}):
            found.add(doc["_id"])
            if doc["status"] != SENDING:
                settled.append(outcome_from(doc))
            elif doc["lease_until"] > now:
                held += 1
            elif await self._take_over(doc["_id"], now=now, lease_until=lease_until):
                claimed.append(by_key[doc["_id"]])
        fresh = [by_key[k] for k in by_key if k in looked_up and k not in found]
        return Claims(claimed, settled, held, stored, fresh)

    async def _take_over(self, key: str, *, now: datetime, lease_until: datetime) -> bool:
        """Lease a stale 'sending' claim, unless another replica just did."""
        result = await self._notifications.update_one(
            {"_id": key, "status": SENDING, "lease_until": {"$lte": now}},
            {"$set": {"lease_until": lease_until, "claimed_at": now}},
        )
        return bool(result.modified_count)

    async def complete(
        self, outcomes: Sequence[Outcome], *, now: datetime
    ) -> dict[str, Outcome | None]:
        """Store each outcome, `now` being its receipt's time: fresh ones as one batch insert of
        their documents (ADR 0038); for claims, alike outcomes (same status, channel, attempts,
        reason and wait) share one `update` statement over their keys (`_id $in`), so a batch
        of delivered acknowledgements is one statement, not one per key. A settled one forgets
        its address, a deferred one waits with its lease. A fresh key stored before is read
        back: its stored outcome (None while another sender holds its claim) is returned."""
        fresh = [o for o in outcomes if o.fresh]
        alike: dict[OutcomeShape, list[str]] = {}
        for o in outcomes:
            if not o.fresh:
                alike.setdefault(outcome_shape(o), []).append(o.key)
        await write_in_chunks(
            self._notifications,
            [
                completion(shape, keys[start : start + KEYS_PER_STATEMENT], now)
                for shape, keys in alike.items()
                for start in range(0, len(keys), KEYS_PER_STATEMENT)
            ],
        )
        if not fresh:
            return {}
        docs = [claim_document(o.delivery, now=now, lease_until=now, outcome=o) for o in fresh]
        taken = await insert_new(self._notifications, docs)
        if not taken:
            return {}
        before: dict[str, Outcome | None] = dict.fromkeys(taken)
        for doc in await find_all(self._notifications, {"_id": {"$in": sorted(taken)}}):
            if doc["status"] != SENDING:
                before[doc["_id"]] = outcome_from(doc)
        return before

    async def extend(self, keys: Sequence[str], *, lease_until: datetime) -> None:
        """One `update_many` per chunk of keys, on documents still waiting or being sent."""
        for start in range(0, len(keys), KEYS_PER_STATEMENT):
            await self._notifications.update_many(
                {
                    "_id": {"$in": list(keys[start : start + KEYS_PER_STATEMENT])},
                    "status": {"$in": WAITING},
                },
                {"$set": {"lease_until": lease_until}},
            )

    async def templates(self, keys: Sequence[str]) -> dict[str, str]:
        """The template each claimed key was claimed with (one read by `_id`)."""
        if not keys:
            return {}
        docs = await find_all(self._notifications, {"_id": {"$in": list(keys)}}, {"template": 1})
        return {d["_id"]: d["template"] for d in docs}

    async def claim_due(self, *, now: datetime, lease_until: datetime, limit: int) -> DueRound:
        """Lease due documents in batches: the earliest waiting rows per status (an index walk
        that stops at its batch), then one conditional `update_many` stamps a token of this
        call on those still due (each document atomically, so one replica wins each), and one
        `$in` read finds the ones that carry it. The walks also tell when the next row comes
        due, so the dispatcher needs no read of its own before it naps."""
        walks = [await self._due(status, now, limit) for status in WAITING]
        due = sorted((doc for rows, _ in walks for doc in rows), key=lambda d: d["lease_until"])
        later = [at for _, at in walks if at is not None]
        if len(due) > limit:
            later.append(now)  # due rows left for the next round
        if not due:
            return DueRound([], min(later, default=None))
        ids = [doc["_id"] for doc in due[:limit]]
        token = uuid.uuid4().hex
        await self._notifications.update_many(
            {"_id": {"$in": ids}, "status": {"$in": WAITING}, "lease_until": {"$lte": now}},
            {"$set": {"lease_until": lease_until, "lease_token": token}},
        )
        won = await find_all(self._notifications, {"_id": {"$in": ids}, "lease_token": token})
        order = {key: index for index, key in enumerate(ids)}
        leased = [
            Due(delivery_from(doc), doc.get("reason") if doc["status"] != SENDING else None)
            for doc in sorted(won, key=lambda doc: order[doc["_id"]])
        ]
        return DueRound(leased, min([*later, lease_until], default=None))

    async def _due(
        self, status: str, now: datetime, limit: int
    ) -> tuple[list[Document], datetime | None]:
        """The due rows of one status, earliest first (a short walk, a longer one only when
        every row of the short one was due), and when the first row not among them comes due
        (`now` when the walk stopped at `limit` rows all due; None when none is left)."""
        size = min(limit, PROBE)
        while True:
            rows = await self._earliest(status, size)
            due = [row for row in rows if row["lease_until"] <= now]
            if len(due) < size or size >= limit:
                break
            size = limit
        if len(rows) > len(due):
            return due, rows[len(due)]["lease_until"]
        return due, now if len(rows) == size else None

    async def _earliest(self, status: str, size: int) -> list[Document]:
        """The `size` rows of `status` that come due first, `_id` and lease only. The equality on
        the index's leading field and the hint make our FerretDB build walk the index in order
        and stop at the batch (ADR 0004 fixes 4 and 9), instead of decoding every row in flight;
        the batch is one larger than the limit so the server closes the cursor."""
        cursor = self._notifications.find(
            {"status": status},
            {"lease_until": 1},
            sort=[("lease_until", ASCENDING)],
            limit=size,
            hint=DUE_INDEX,
            batch_size=size + 1,
        )
        return await cursor.to_list(None)

    async def next_due_at(self) -> datetime | None:
        """Earliest lease or deferral end among waiting documents (one row read per status)."""
        firsts = [row["lease_until"] for s in WAITING for row in await self._earliest(s, 1)]
        return min(firsts, default=None)
