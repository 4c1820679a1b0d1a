"""The bulk-write chunk stays within what the local FerretDB survives (issue 15).

FerretDB 1.x holds one of its `POOL` pooled SQLite connections per statement of an `update`
command until the whole command ends: measured on the project's build, 99 conditional updates in
one unordered `bulk_write` pass and 100 wedge the database until the server is restarted. Reads
running meanwhile hold connections too, so a chunk must leave room for them.
"""

from __future__ import annotations

import asyncio

import pytest
from pymongo import AsyncMongoClient, UpdateOne

from servicekit.mongo import WRITE_CHUNK, Document, find_all, insert_new, write_in_chunks
from tests.stores import fresh_database, mongo_server

POOL = 100
"""FerretDB 1.x's pooled SQLite connections per database: one command never gets more."""
READERS = 32
"""Reads in flight beside a write (the services' consumers, case API and scheduler together)."""


def test_a_chunk_leaves_the_pool_room_for_the_readers() -> None:
    assert WRITE_CHUNK + READERS < POOL


@pytest.mark.stack
async def test_chunks_of_conditional_updates_complete_beside_concurrent_reads() -> None:
    """Bulk compare-and-sets in chunks (several writers, as the SLA's consumers are) while
    `READERS` reads run: every statement is applied, and nothing waits on the pool for ever."""
    url = mongo_server()
    async with fresh_database(url, "chunks") as db:
        probe: AsyncMongoClient[Document] = AsyncMongoClient(
            url, tz_aware=True, retryWrites=False, socketTimeoutMS=60_000
        )
        try:
            items = probe[db.name]["items"]
            writers, per_writer = 3, 2 * WRITE_CHUNK
            ids = [f"doc-{n:04d}" for n in range(writers * per_writer)]
            await insert_new(items, [{"_id": i, "version": 0, "pad": "x" * 4000} for i in ids])

            async def write(part: list[str]) -> None:
                await write_in_chunks(
                    items,
                    [UpdateOne({"_id": i, "version": 0}, {"$inc": {"version": 1}}) for i in part],
                )

            async def read() -> None:
                await find_all(items, {"_id": {"$in": ids[:50]}})

            parts = [ids[n * per_writer : (n + 1) * per_writer] for n in range(writers)]
            work = [*(write(part) for part in parts), *(read() for _ in range(READERS))]
            await asyncio.wait_for(asyncio.gather(*work), timeout=120)
            versions = {d["version"] for d in await find_all(items, {}, {"version": 1})}
            assert versions == {1}  # every conditional update applied once
        finally:
            await probe.close()
