"""The SLA ports' adapters for the contract suites: the in-memory fakes and the real store.

`store` runs each contract test over the fake and over the real MongoDB-compatible server: the
local FerretDB (started on first use), or the MongoDB that `COMPLAINTS_MONGO` points at.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from pymongo import AsyncMongoClient

from servicekit.mongo import Document
from sla.adapters.liveness import InMemoryLiveness, MongoLiveness
from sla.adapters.memory import InMemoryCaseStore, InMemoryDueIndex
from sla.adapters.mongo_cases import MongoCaseStore
from sla.adapters.slots import MongoDueIndex
from sla.clocks.liveness import Liveness
from sla.ports import CaseStore, DueIndex

ROOT = Path(__file__).resolve().parents[2]
MONGO = os.environ.get("COMPLAINTS_MONGO", "mongodb://127.0.0.1:27017")


@dataclass
class Adapters:
    """One kind of adapter: makes stores and indexes sharing one database (two replicas)."""

    kind: str
    db: Any = None
    memory: InMemoryCaseStore | None = None
    index: InMemoryDueIndex | None = None
    beats: InMemoryLiveness | None = None

    def cases(self) -> CaseStore:
        """A case store; every call over the same data (another replica's view)."""
        if self.kind == "memory":
            self.memory = self.memory or InMemoryCaseStore()
            return self.memory
        return MongoCaseStore(self.db)

    def due_index(self) -> DueIndex:
        """A due index; for Mongo each call is another replica's (its own settled memory)."""
        if self.kind == "memory":
            self.index = self.index or InMemoryDueIndex()
            return self.index
        return MongoDueIndex(cast(Any, self.db), width=10, settle=timedelta(seconds=10))

    def liveness(self) -> Liveness:
        """The replicas' heartbeats; every call over the same data."""
        if self.kind == "memory":
            self.beats = self.beats or InMemoryLiveness()
            return self.beats
        return MongoLiveness(self.db)


@pytest.fixture(scope="session")
def local_stack() -> None:
    """Start (or reuse) the local servers, unless a MongoDB is given."""
    if "COMPLAINTS_MONGO" not in os.environ:
        stack = ROOT / "deploy" / "local" / "stack.py"
        subprocess.run([sys.executable, str(stack), "up"], check=True)


@pytest.fixture(params=["memory", pytest.param("mongo", marks=pytest.mark.stack)])
async def adapters(request: pytest.FixtureRequest) -> AsyncIterator[Adapters]:
    """The fake, then the real store in a fresh database dropped afterwards."""
    if request.param == "memory":
        yield Adapters("memory")
        return
    request.getfixturevalue("local_stack")
    client: AsyncMongoClient[Document] = AsyncMongoClient(MONGO, tz_aware=True, retryWrites=False)
    name = f"sla_contract_{uuid.uuid4().hex[:10]}"
    try:
        yield Adapters("mongo", db=client[name])
    finally:
        await client.drop_database(name)
        await client.close()
