"""Single-document commands are counted apart from batched ones, as the server charges for them."""

from __future__ import annotations

import uuid

import pytest
from prometheus_client import CollectorRegistry
from pydantic import SecretStr
from pymongo import UpdateOne

from servicekit.commands import addresses_one_document
from servicekit.metrics import KitMetrics
from servicekit.mongo import find_all, insert_new, open_client, write_in_chunks
from servicekit.settings import MongoSettings
from tests.stores import mongo_server


@pytest.mark.parametrize(
    ("name", "command", "single"),
    [
        ("find", {"filter": {"_id": "a"}}, True),
        ("find", {"filter": {"status": "x"}, "limit": 1, "singleBatch": True}, True),
        ("find", {"filter": {"_id": {"$in": ["a", "b"]}}}, False),
        ("find", {"filter": {"received_at": {"$gte": 1}}}, False),
        ("findAndModify", {"query": {"_id": "a"}}, True),
        ("update", {"updates": [{"q": {"_id": "a"}, "u": {}}]}, True),
        ("update", {"updates": [{"q": {"_id": "a"}, "u": {}}, {"q": {"_id": "b"}}]}, False),
        ("update", {"updates": [{"q": {"_id": {"$in": ["a"]}}, "u": {}, "multi": True}]}, False),
        ("delete", {"deletes": [{"q": {"_id": "a"}, "limit": 1}]}, True),
        ("delete", {"deletes": [{"q": {"_id": {"$in": ["a", "b"]}}, "limit": 0}]}, False),
        ("insert", {"documents": [{"_id": "a"}]}, False),
        ("aggregate", {"pipeline": []}, False),
    ],
)
def test_what_counts_as_a_single_document_command(
    name: str, command: dict[str, object], single: bool
) -> None:
    assert addresses_one_document(name, command) is single


@pytest.mark.stack
async def test_the_client_counts_what_it_sends_to_the_real_server() -> None:
    registry = CollectorRegistry()
    name = f"commands_test_{uuid.uuid4().hex[:10]}"
    settings = MongoSettings(url=SecretStr(mongo_server()), database=name)
    client = open_client(settings, app_name="test", metrics=KitMetrics(registry, "probe"))
    try:
        items = client[name]["items"]
        await insert_new(items, [{"_id": str(i), "n": i} for i in range(5)])
        await find_all(items, {"_id": {"$in": ["1", "2"]}})
        await write_in_chunks(
            items, [UpdateOne({"_id": str(i)}, {"$set": {"n": 0}}) for i in range(3)]
        )
        await items.find_one({"_id": "1"})
        await items.update_one({"_id": "2"}, {"$set": {"n": 1}})
        await items.find_one_and_update({"_id": "3"}, {"$set": {"n": 2}})
    finally:
        await client.drop_database(name)
        await client.close()

    def value(metric: str, command: str) -> float:
        labels = {"service": "probe", "command": command, "collection": "items"}
        return registry.get_sample_value(metric, labels) or 0.0

    singles = "complaints_mongo_single_commands_total"
    ops = "complaints_mongo_commands_total"
    assert (value(ops, "insert"), value(singles, "insert")) == (5, 0)
    assert (value(ops, "update"), value(singles, "update")) == (3 + 1, 1)
    assert (value(ops, "find"), value(singles, "find")) == (2, 1)
    assert (value(ops, "findAndModify"), value(singles, "findAndModify")) == (1, 1)
