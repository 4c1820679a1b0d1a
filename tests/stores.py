"""MongoDB for the adapter contract suites: the server at COMPLAINTS_MONGO, or the local stack."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from servicekit.mongo import Document
from tests._builders.stack import start_local_stack


def mongo_server() -> str:
    """The server to use: COMPLAINTS_MONGO if given, else the local stack (started if needed)."""
    if url := os.environ.get("COMPLAINTS_MONGO"):
        return url
    start_local_stack()
    return "mongodb://127.0.0.1:27017"


@contextlib.asynccontextmanager
async def fresh_database(url: str, prefix: str) -> AsyncIterator[AsyncDatabase[Document]]:
    """A fresh database, dropped afterwards."""
    client: AsyncMongoClient[Document] = AsyncMongoClient(url, tz_aware=True, retryWrites=False)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        yield client[name]
    finally:
        await client.drop_database(name)
        await client.close()


class Indexed(Protocol):
    """A MongoDB store: it creates its indexes before first use."""

    async def ensure_indexes(self) -> None: ...


S = TypeVar("S", bound=Indexed)
BACKENDS: list[Any] = ["memory", pytest.param("mongo", marks=pytest.mark.stack)]
"""The parameters of a store contract suite: the fake always, the real store with the stack."""


@dataclass
class Backend(Generic[S]):
    """A store, and its database when it is the Mongo one."""

    store: S
    db: AsyncDatabase[Document] | None = None


@contextlib.asynccontextmanager
async def backend_of(
    kind: str,
    memory: Callable[[], S],
    mongo: Callable[[AsyncDatabase[Document]], S],
    prefix: str,
) -> AsyncIterator[Backend[S]]:
    """The in-memory store, or the MongoDB one (indexed) over a fresh database."""
    if kind == "memory":
        yield Backend(memory())
        return
    async with fresh_database(mongo_server(), prefix) as db:
        store = mongo(db)
        await store.ensure_indexes()
        yield Backend(store, db)
