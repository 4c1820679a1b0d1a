"""A grown store for the whole-pipeline bench: `--seed N` stores N earlier classifications.

FerretDB's cost per complaint can grow with what is stored (it decodes every row a query
narrows to, ADR 0004), and a 2,000-complaint run never holds what a 20,000-complaint one does.
After the warm-up, this clones the warm-up's stored decisions under new complaint ids through the
classifier's own store adapter (`MongoClassificationStore.save`), so every representation the
adapter writes (the documents and the history it keeps) is seeded as the service would write it.
The clones keep their category, area and receipt time: they are history inside every window, as
the first 18,000 complaints of a long run are for its last 2,000. Other collections are read by
`_id` or by a key of one complaint, so their size does not change what a complaint's reads decode.
"""

from __future__ import annotations

import secrets
import sys
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from classifier.adapters.mongo import MongoClassificationStore
from contracts import ComplaintClassified

BATCH = 500
"""Decisions per `save` (the classifier's own batch bound)."""


def _clone(event: ComplaintClassified, complaint_id: str) -> ComplaintClassified:
    data = event.data.model_copy(update={"complaint_id": complaint_id, "incident_id": None})
    return event.model_copy(update={"data": data, "subject": complaint_id})


async def seed(db: AsyncDatabase[dict[str, Any]], count: int) -> int:
    """Store `count` clones of the stored classifications; how many were stored."""
    models = [
        (ComplaintClassified.model_validate(doc["classified_event"]), doc.get("area"))
        async for doc in db["classifications"].find({}, {"classified_event": 1, "area": 1})
    ]
    if not models or count <= 0:
        return 0
    store = MongoClassificationStore(db)
    stored = 0
    prefix = f"CP{secrets.randbelow(10**8):08d}-"
    while stored < count:
        batch = []
        for n in range(stored, min(count, stored + BATCH)):
            event, area = models[n % len(models)]
            batch.append((_clone(event, f"{prefix}S{n:09d}"), area))
        await store.save(batch)
        stored += len(batch)
        sys.stderr.write(f"\r[seed] {stored:,}/{count:,} classifications stored   ")
    sys.stderr.write("\n")
    return stored
