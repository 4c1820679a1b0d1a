"""MongoDB access through PyMongo's AsyncMongoClient (the successor of Motor)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pymongo import AsyncMongoClient, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from servicekit.settings import MongoSettings

Document = dict[str, Any]


def open_client(settings: MongoSettings, *, app_name: str) -> AsyncMongoClient[Document]:
    """A client that does not connect until first used (nothing connects at import or build)."""
    return AsyncMongoClient(
        settings.url.get_secret_value(),
        appname=app_name,
        serverSelectionTimeoutMS=settings.timeout_ms,
        connectTimeoutMS=settings.timeout_ms,
        tz_aware=True,
        retryWrites=False,  # FerretDB 1.x has no retryable writes; idempotent upserts instead
    )


def database(
    client: AsyncMongoClient[Document], settings: MongoSettings
) -> AsyncDatabase[Document]:
    """The pipeline's database."""
    return client[settings.database]


async def ping(db: AsyncDatabase[Document]) -> bool:
    """Whether the server answers."""
    try:
        await db.command("ping")
    except Exception:
        return False
    return True


class MongoResource:
    """A lazily connecting client and the pipeline database, closed with the app."""

    def __init__(self, settings: MongoSettings, *, app_name: str) -> None:
        self.client = open_client(settings, app_name=app_name)
        self.db = database(self.client, settings)

    async def ready(self) -> bool:
        """Readiness check: the server answers a ping."""
        return await ping(self.db)

    async def close(self) -> None:
        """Close the client's connections."""
        await self.client.close()


ONE_BATCH = 100_000
"""First-batch size for every read: the server drains its cursor in one reply."""


async def find_all(
    collection: AsyncCollection[Document],
    query: Mapping[str, Any],
    projection: Mapping[str, Any] | None = None,
    *,
    sort: list[tuple[str, int]] | None = None,
    limit: int = 0,
) -> list[Document]:
    """All matching documents (the first `limit` if given), fetched in a single reply.

    Two FerretDB 1.x behaviours shape this: a cursor left open holds one of its hundred pooled
    SQLite connections until the client disconnects (`killCursors` does not free it and there is
    no idle timeout), and a `find` with a `limit` larger than the number of matches leaves its
    cursor open. A hundred such cursors deadlock the server. So every read is drained in one
    reply and limits are applied here, not sent. (FerretDB's SQLite backend scans the collection
    for any filter without an `_id` equality anyway, so a server-side limit saves nothing there.)
    """
    cursor = collection.find(query, projection, batch_size=ONE_BATCH)
    if sort:
        cursor = cursor.sort(sort)
    docs = await cursor.to_list(None)
    return docs[:limit] if limit else docs


async def ensure_index(
    collection: AsyncCollection[Document], keys: list[tuple[str, int]], **options: Any
) -> None:
    """Create an index only if it is missing (creating takes FerretDB's metadata write lock)."""
    existing = await collection.index_information()
    if not any(info.get("key") == keys for info in existing.values()):
        await collection.create_index(keys, **options)


WRITE_CHUNK = 32
"""Statements per `update` command sent to the server.

FerretDB 1.x opens one query per statement of an `update` command and releases them only when
the whole command ends; each holds one of its hundred pooled SQLite connections, so a bulk
write of a hundred statements deadlocks it. Chunks of 32 keep far below that and cost little:
the round trips are few and the pushed-down `_id` statements are cheap.
"""


async def write_in_chunks(
    collection: AsyncCollection[Document], operations: Sequence[UpdateOne]
) -> None:
    """`bulk_write` (unordered) in chunks of `WRITE_CHUNK` statements."""
    for start in range(0, len(operations), WRITE_CHUNK):
        await collection.bulk_write(list(operations[start : start + WRITE_CHUNK]), ordered=False)
