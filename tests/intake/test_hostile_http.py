"""Hostile requests to intake's `POST /complaints` (tests/intake/corpus/http.jsonl).

Every answer is the entry's status with a machine-readable reason, never a 500; only an accepted
complaint is published, and every refused body is dead-lettered with the same reason.
"""

from __future__ import annotations

import base64
import json
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import pytest

from intake.domain import process_raw
from tests._builders.hostile import Entry, corpus, payload
from tests._builders.intake_http import APP_KEY, NOW, WEB_KEY, Rig

CORPUS = Path(__file__).parent / "corpus" / "http.jsonl"
KEYS = {"web": WEB_KEY, "app": APP_KEY}


async def _send(rig: Rig, entry: Entry) -> tuple[int, dict[str, Any]]:
    headers: list[tuple[bytes, bytes]] = []
    if "key_bytes" in entry:
        headers.append((b"x-api-key", base64.b64decode(entry["key_bytes"])))
    elif entry.get("key") is not None:
        key = str(entry["key"])
        headers.append((b"x-api-key", KEYS.get(key, key).encode()))
    if "idempotency_key" in entry:
        headers.append((b"idempotency-key", str(entry["idempotency_key"]).encode()))
    if "content_type" in entry:
        headers.append((b"content-type", str(entry["content_type"]).encode()))
    body = payload(entry)
    chunk = int(entry.get("chunk", 0))
    parts = [body[i : i + chunk] for i in range(0, len(body), chunk)] if chunk else [body]
    messages = [
        {"type": "http.request", "body": part, "more_body": index < len(parts) - 1}
        for index, part in enumerate(parts)
    ]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": entry.get("method", "POST"),
        "path": "/complaints",
        "headers": headers,
    }
    await rig.endpoint(scope, receive, send)  # an exception here would be the server's 500
    return sent[0]["status"], json.loads(sent[1]["body"])


@pytest.mark.parametrize("entry", corpus(CORPUS))
async def test_hostile_request_is_answered_with_its_status_and_reason(entry: Entry) -> None:
    rig = Rig()
    status, answer = await _send(rig, entry)
    assert status == entry["status"], answer
    reason = answer.get("reason") or answer.get("error") or answer.get("status")
    assert reason == entry["reason"]
    if status == 202:
        [(_, submitted)] = rig.submitted
        assert process_raw(submitted, now=NOW, secret=b"s").__class__.__name__ == "Accepted"
        assert answer["complaint_id"].startswith("CP")
        return
    assert rig.submitted == []
    assert answer.get("detail")
    if status == 422:
        assert [d.reason for d in rig.dead] == [entry["reason"]]
    else:
        assert rig.dead == []
