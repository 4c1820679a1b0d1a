"""MongoDB access through PyMongo's AsyncMongoClient (the successor of Motor)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from pymongo import AsyncMongoClient, UpdateOne, monitoring
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from servicekit.metrics import KitMetrics
from servicekit.settings import MongoSettings

Document = dict[str, Any]


class CommandMetrics(monitoring.CommandListener):
    """Counts operations by command and collection (a bulk write counts each statement) and
    times each round trip; no arguments are kept."""

    _SKIPPED = frozenset({"hello", "ismaster", "isMaster", "ping", "endSessions"})
    _STATEMENTS: ClassVar[dict[str, str]] = {
        "insert": "documents",
        "update": "updates",
        "delete": "deletes",
    }

    def __init__(self, metrics: KitMetrics) -> None:
        self._metrics = metrics

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in self._SKIPPED:
            return
        command = event.command
        target = command.get(event.command_name)
        collection = target if isinstance(target, str) else ""
        statements = command.get(self._STATEMENTS.get(event.command_name, ""))
        self._metrics.mongo_commands.labels(
            self._metrics.service, event.command_name, collection
        ).inc(len(statements) if isinstance(statements, list) and statements else 1)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._observe(event.command_name, event.duration_micros)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._observe(event.command_name, event.duration_micros)

    def _observe(self, command: str, micros: int) -> None:
        if command not in self._SKIPPED:
            self._metrics.mongo_seconds.labels(self._metrics.service, command).observe(micros / 1e6)


def open_client(
    settings: MongoSettings, *, app_name: str, metrics: KitMetrics | None = None
) -> AsyncMongoClient[Document]:
    """A client that does not connect until first used (nothing connects at import or build)."""
    return AsyncMongoClient(
        settings.url.get_secret_value(),
        appname=app_name,
        serverSelectionTimeoutMS=settings.timeout_ms,
        connectTimeoutMS=settings.timeout_ms,
        tz_aware=True,
        retryWrites=False,  # FerretDB 1.x has no retryable writes; idempotent upserts instead
        event_listeners=[CommandMetrics(metrics)] if metrics else [],
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

    def __init__(
        self, settings: MongoSettings, *, app_name: str, metrics: KitMetrics | None = None
    ) -> None:
        self.client = open_client(settings, app_name=app_name, metrics=metrics)
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


INSERT_CHUNK = 500
"""Documents per `insert` command: FerretDB writes them in one transaction, MongoDB in one batch."""
DUPLICATE_KEY = 11000


async def insert_new(collection: AsyncCollection[Document], docs: Sequence[Document]) -> set[str]:
    """Insert documents whose `_id` is not taken yet; returns the ids that were taken.

    The same outcome as an upsert with `$setOnInsert` per document (the first write wins, a
    redelivery changes nothing) at a fraction of the cost: one unordered batch insert instead of
    a look-up and a write per document. Any error but a duplicate key is raised.
    """
    taken: set[str] = set()
    for start in range(0, len(docs), INSERT_CHUNK):
        chunk = docs[start : start + INSERT_CHUNK]
        try:
            await collection.insert_many(list(chunk), ordered=False)
        except BulkWriteError as error:
            details = error.details.get("writeErrors", [])
            if error.details.get("writeConcernErrors") or any(
                e.get("code") != DUPLICATE_KEY for e in details
            ):
                raise
            taken.update(str(chunk[e["index"]]["_id"]) for e in details)
    return taken
