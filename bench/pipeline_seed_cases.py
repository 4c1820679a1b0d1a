"""A grown case store for the whole-pipeline bench: `--seed-cases N` stores N earlier cases.

The SLA's cost per complaint may grow with the cases it holds (a read that narrows worse, an
index that deepens, ADR 0004). After the warm-up, this clones the warm-up's stored cases under
new complaint ids through the SLA's own store adapter (`MongoCaseStore.insert_new`, the tally
announced and settled as the service does), so every field and index the adapter writes is
seeded as the service would write it. The clones keep their state (most are acknowledged, as the
first 100,000 complaints of a long run are for its last few thousand) and their clock sheet; they
are not put on the scheduler's due index, so none falls due during the run.
"""

from __future__ import annotations

import secrets
import sys
from dataclasses import replace
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from servicekit.mongo import find_all
from sla.adapters.case_documents import record_from
from sla.adapters.mongo_cases import MongoCaseStore

BATCH = 500
"""Cases per `insert_new` (the classified lane's batch bound)."""


async def seed_cases(db: AsyncDatabase[dict[str, Any]], count: int) -> int:
    """Store `count` clones of the stored cases; how many were stored."""
    docs = await find_all(db["cases"], {"received_at": {"$exists": True}})
    models = [record_from(doc) for doc in docs]
    if not models or count <= 0:
        return 0
    store = MongoCaseStore(db)
    stored = 0
    prefix = f"CS{secrets.randbelow(10**8):08d}-"
    while stored < count:
        batch = []
        for n in range(stored, min(count, stored + BATCH)):
            model = models[n % len(models)]
            facts = replace(model.facts, complaint_id=f"{prefix}S{n:09d}")
            batch.append(replace(model, facts=facts, unpublished=()))
        await store.insert_new(batch)
        stored += len(batch)
        sys.stderr.write(f"\r[seed] {stored:,}/{count:,} cases stored   ")
    sys.stderr.write("\n")
    return stored
