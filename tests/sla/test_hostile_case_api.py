"""Hostile requests to the case API (tests/sla/corpus/case_api.jsonl), in process.

Every answer is the entry's status with a `Problem` reason (never a 5xx); nothing is published
unless the action is taken (202); and every list filter that reaches the store is plain values,
which the Mongo adapter turns into an equality-only query.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest

from servicekit.mongo import check_filter
from sla.adapters.mongo_cases import MongoCaseStore
from sla.ports import CaseFilter
from sla.settings import Role
from tests._builders.hostile import Entry, RecordingDatabase, corpus, payload
from tests._builders.sla import CID, KEYS, ApiRig, Rig, case_api

CORPUS = Path(__file__).parent / "corpus" / "case_api.jsonl"
ROLES = {role.value: role for role in Role}


@pytest.fixture
async def api(rig: Rig) -> AsyncIterator[tuple[ApiRig, list[CaseFilter]]]:
    filters: list[CaseFilter] = []
    search = rig.cases.search

    async def recorded(query: CaseFilter, paging: Any = None) -> Any:
        filters.append(query)  # the request's fields; paging is built by the service, not sent
        return await search(query, paging)

    rig.cases.search = recorded  # type: ignore[method-assign]
    async with case_api(rig) as opened:
        yield opened, filters


def _headers(entry: Entry) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if "key_bytes" in entry:
        headers["X-Api-Key"] = base64.b64decode(entry["key_bytes"])
    elif entry.get("key") is not None:
        key = str(entry["key"])
        headers["X-Api-Key"] = KEYS[ROLES[key]] if key in ROLES else key
    if "content_type" in entry:
        headers["Content-Type"] = entry["content_type"]
    elif entry["method"] == "POST":
        headers["Content-Type"] = "application/json"
    return headers


async def _chunks(body: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(body), 16384):
        yield body[start : start + 16384]


@pytest.mark.parametrize("entry", corpus(CORPUS))
async def test_hostile_request_gets_its_status_and_reason(
    api: tuple[ApiRig, list[CaseFilter]], entry: Entry
) -> None:
    rig, filters = api
    url = entry["path"].replace("{cid}", CID) + (f"?{entry['query']}" if "query" in entry else "")
    content: Any = None
    if entry["method"] == "POST":
        body = payload(entry)
        content = _chunks(body) if entry.get("chunked") else body
    answer = await rig.client.request(
        entry["method"], url, headers=_headers(entry), content=content
    )
    assert answer.status_code == entry["status"], answer.text
    body_json = answer.json()
    if answer.status_code >= 400:
        assert body_json["reason"] == entry["reason"]
        assert body_json["detail"]
        assert len(body_json["detail"]) <= 600
        assert rig.published == []
    elif answer.status_code == 202 and entry["method"] == "POST":
        assert body_json["status"] == entry["reason"]
        [event] = rig.published
        assert event.data.actor == f"{Role.MANAGER.value}-01"
    elif "items" in entry:
        assert len(body_json["items"]) == entry["items"]
    for query in filters:
        db = RecordingDatabase()
        await MongoCaseStore(cast(Any, db)).search(query)
        [find] = db.writes
        check_filter(find.query)
        assert all(isinstance(v, str) for v in find.query.values())
