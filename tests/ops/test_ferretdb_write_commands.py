"""What one `update` or `delete` command of several statements does on the local FerretDB build.

The build runs all the statements of such a command in one SQLite transaction (docs/adr/0041);
these pin down what the services see, which must be what they saw when each statement committed
on its own: later statements read earlier ones' writes, the command stops at its first failing
statement (ordered or not: FerretDB 1.x ignores `ordered`) keeping the statements before it, a
unique-key violation raised by an update is code 1 (inserts give 11000), upserts report their
statement's index, and a delete of several statements counts each.
"""

from __future__ import annotations

from typing import Any

import pytest
from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import OperationFailure

from servicekit.mongo import Document, find_all
from tests.stores import fresh_database, mongo_server

pytestmark = pytest.mark.stack


async def _values(items: AsyncCollection[Document]) -> dict[str, Any]:
    return {d["_id"]: d.get("v") for d in await find_all(items, {})}


async def test_later_statements_read_what_earlier_ones_wrote() -> None:
    async with fresh_database(mongo_server(), "cmdtx") as db:
        items = db["items"]
        await items.insert_many([{"_id": "a", "v": 0}, {"_id": "b", "v": 0}])
        increments = [UpdateOne({"_id": "a"}, {"$inc": {"v": 1}}) for _ in range(5)]
        # A compare-and-set that only matches after the increments before it.
        guarded = UpdateOne({"_id": "a", "v": 5}, {"$set": {"v": 50}})
        result = await items.bulk_write([*increments, guarded], ordered=False)
        assert (result.matched_count, result.modified_count) == (6, 6)
        assert await _values(items) == {"a": 50, "b": 0}


async def test_upserts_report_their_statement_index_and_are_seen_by_later_statements() -> None:
    async with fresh_database(mongo_server(), "cmdtx") as db:
        items = db["items"]
        await items.insert_one({"_id": "a", "v": 0})
        reply = await db.command(
            "update",
            "items",
            updates=[
                {"q": {"_id": "a"}, "u": {"$set": {"v": 1}}},
                {"q": {"_id": "n"}, "u": {"$set": {"v": 1}}, "upsert": True},
                {"q": {"_id": "n"}, "u": {"$inc": {"v": 1}}},
            ],
        )
        assert reply["n"] == 3
        assert reply["nModified"] == 2
        assert [(u["index"], u["_id"]) for u in reply["upserted"]] == [(0, "n")]
        assert await _values(items) == {"a": 1, "n": 2}


@pytest.mark.parametrize("ordered", [True, False])
async def test_a_duplicate_key_stops_the_command_and_keeps_what_ran_before(ordered: bool) -> None:
    async with fresh_database(mongo_server(), "cmdtx") as db:
        items = db["items"]
        await items.create_index([("k", ASCENDING)], unique=True)
        await items.insert_many([{"_id": n, "k": n, "v": 0} for n in ("a", "b", "c")])
        with pytest.raises(OperationFailure) as failed:
            await db.command(
                "update",
                "items",
                ordered=ordered,
                updates=[
                    {"q": {"_id": "a"}, "u": {"$set": {"v": 1}}},
                    {"q": {"_id": "b"}, "u": {"$set": {"k": "a"}}},  # taken by "a"
                    {"q": {"_id": "c"}, "u": {"$set": {"v": 1}}},
                ],
            )
        assert failed.value.code == 1  # not 11000: the local server's quirk, kept
        assert await _values(items) == {"a": 1, "b": 0, "c": 0}
        assert {d["_id"]: d["k"] for d in await find_all(items, {})}["b"] == "b"
        # The server goes on: the next command of the collection runs and commits.
        await items.update_one({"_id": "c"}, {"$set": {"v": 2}})
        assert (await _values(items))["c"] == 2


async def test_a_delete_of_several_statements_counts_each() -> None:
    async with fresh_database(mongo_server(), "cmdtx") as db:
        items = db["items"]
        await items.insert_many([{"_id": f"d{n}", "g": n % 3} for n in range(9)])
        reply = await db.command(
            "delete",
            "items",
            deletes=[
                {"q": {"g": 0}, "limit": 0},
                {"q": {"_id": "d1"}, "limit": 1},
                {"q": {"_id": "d0"}, "limit": 1},  # already gone by the first statement
                {"q": {"g": 2}, "limit": 0},
            ],
        )
        assert reply["n"] == 3 + 1 + 0 + 3
        assert sorted(await _values(items)) == ["d4", "d7"]
