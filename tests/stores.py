"""MongoDB for the adapter contract suites: the server at COMPLAINTS_MONGO, or the local stack."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from servicekit.mongo import Document

ROOT = Path(__file__).resolve().parents[1]


def mongo_server() -> str:
    """The server to use: COMPLAINTS_MONGO if given, else the local stack (started if needed)."""
    if url := os.environ.get("COMPLAINTS_MONGO"):
        return url
    subprocess.run([sys.executable, str(ROOT / "deploy" / "local" / "stack.py"), "up"], check=True)
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
