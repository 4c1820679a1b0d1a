"""The hostile corpus: every entry is rejected with its expected reason, never raised."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from intake.domain import Rejected, RejectReason, process_raw

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
CORPUS = Path(__file__).parent / "corpus" / "hostile.jsonl"


def _payload(entry: dict[str, Any]) -> bytes:
    if "base64" in entry:
        return base64.b64decode(str(entry["base64"]))
    if "text" in entry:
        return str(entry["text"]).encode("utf-8", "surrogatepass")
    if "repeat" in entry:
        spec: dict[str, Any] = entry["repeat"]
        text = str(spec["prefix"]) + str(spec["unit"]) * int(spec["times"]) + str(spec["suffix"])
        return text.encode()
    return json.dumps(entry["json"], ensure_ascii=False).encode()


def _entries() -> list[Any]:
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in lines if line.strip()]
    return [pytest.param(entry, id=entry["name"]) for entry in entries]


def test_corpus_covers_every_reason() -> None:
    reasons = {entry.values[0]["reason"] for entry in _entries()}
    assert reasons == {reason.value for reason in RejectReason}


@pytest.mark.parametrize("entry", _entries())
def test_hostile_entry_is_rejected_with_its_reason(entry: dict[str, Any]) -> None:
    result = process_raw(_payload(entry), now=NOW, secret=b"k")
    assert isinstance(result, Rejected)
    assert result.reason == RejectReason(entry["reason"])
    assert result.detail
    # Details go to logs and the DLQ index: no digits run that could be a phone number.
    assert not any(run.isdigit() and len(run) >= 7 for run in result.detail.split())
