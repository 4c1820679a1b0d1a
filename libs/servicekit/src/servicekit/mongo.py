"""MongoDB access through PyMongo's AsyncMongoClient (the successor of Motor)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pymongo import AsyncMongoClient, UpdateMany, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from servicekit.commands import CommandMetrics
from servicekit.metrics import KitMetrics
from servicekit.settings import MongoSettings

Document = dict[str, Any]


def auth_kwargs(settings: MongoSettings) -> dict[str, Any]:
    """Credentials and TLS options given apart from the URL (they win over the URL's)."""
    kwargs: dict[str, Any] = {}
    if settings.username is not None and settings.password is not None:
        kwargs |= {"username": settings.username, "password": settings.password.get_secret_value()}
    if settings.auth_source:
        kwargs["authSource"] = settings.auth_source
    if settings.auth_mechanism:
        kwargs["authMechanism"] = settings.auth_mechanism
    if settings.tls_cafile:
        kwargs |= {"tls": True, "tlsCAFile": str(settings.tls_cafile)}
    return kwargs


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
        **auth_kwargs(settings),
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
write of a hundred statements deadlocks it (measured on the local build: 99 pass, 100 wedge the
database until the server restarts). Chunks of 32 leave room for the reads running meanwhile and
cost little: the round trips are few and the pushed-down `_id` statements are cheap
(tests/servicekit/test_write_chunks.py keeps the margin).
"""


async def write_in_chunks(
    collection: AsyncCollection[Document], operations: Sequence[UpdateOne | UpdateMany]
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


# --- Guards: nothing from outside is ever read by MongoDB as an operator or a path ------------

UPDATE_OPERATORS = frozenset(
    {"$set", "$setOnInsert", "$unset", "$inc", "$push", "$addToSet", "$pull", "$min", "$max"}
)
"""Update operators the pipeline's own code writes (the top level of an update document)."""


class UnsafeDocumentError(ValueError):
    """A document, update or filter holds what MongoDB would read as an operator or a path."""


def _shown(key: object) -> str:
    text = repr(key)
    return text if len(text) <= 40 else text[:37] + "..."


def _unsafe_key(key: object, *, path: bool = False) -> bool:
    """A key MongoDB would not store as plain data: `$` first, NUL, empty; `.` unless a path."""
    if not isinstance(key, str) or not key or key.startswith("$") or "\x00" in key:
        return True
    if path:  # a dotted field path written by our own code: no empty or `$` segment
        return any(not part or part.startswith("$") for part in key.split("."))
    return "." in key


def check_document(doc: object, *, where: str = "") -> None:
    """Raise `UnsafeDocumentError` if any key of `doc`, at any depth, is not plain data.

    For documents as they are stored (inserted, or the values of `$set` / `$setOnInsert`):
    MongoDB reads a key starting with `$` as an operator and a dotted key as a path, and a NUL
    byte ends a BSON key. Lists are searched too; scalars of any kind are fine.
    """
    stack: list[tuple[str, object]] = [(where, doc)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, Mapping):
            for key, value in node.items():
                if _unsafe_key(key):
                    raise UnsafeDocumentError(f"key {_shown(key)} at {path or '(top level)'}")
                stack.append((f"{path}.{key}" if path else str(key), value))
        elif isinstance(node, list | tuple):
            stack.extend((f"{path}[{index}]", item) for index, item in enumerate(node))


def check_update(update: Mapping[str, Any]) -> None:
    """Raise unless `update` is a replacement document or uses only `UPDATE_OPERATORS`, with
    field paths of plain segments and plain-data values (`$each` lists allowed)."""
    if not any(isinstance(key, str) and key.startswith("$") for key in update):
        check_document(update)
        return
    for operator, fields in update.items():
        if operator not in UPDATE_OPERATORS or not isinstance(fields, Mapping):
            raise UnsafeDocumentError(f"update operator {_shown(operator)}")
        for field, value in fields.items():
            if _unsafe_key(field, path=True):
                raise UnsafeDocumentError(f"field path {_shown(field)} of {operator}")
            each = isinstance(value, Mapping) and list(value) == ["$each"]
            check_document(value["$each"] if each else value, where=f"{operator}.{field}")


def check_filter(query: Mapping[str, Any], *, operators: frozenset[str] = frozenset()) -> None:
    """Raise unless `query` matches fields by plain values or by the given `operators` only.

    With no operators allowed (the default) every value must be a scalar: a dict or a list that
    came from outside (`{"$ne": null}`, `{"$gt": ""}`) never becomes part of a query.
    """
    for field, value in query.items():
        if _unsafe_key(field, path=True):
            raise UnsafeDocumentError(f"filter field {_shown(field)}")
        if isinstance(value, Mapping):
            for operator, operand in value.items():
                if operator not in operators:
                    raise UnsafeDocumentError(f"filter operator {_shown(operator)} on {field}")
                check_document(operand, where=f"{field}.{operator}")
        elif isinstance(value, list | tuple):
            raise UnsafeDocumentError(f"filter value of {field} is a list")
