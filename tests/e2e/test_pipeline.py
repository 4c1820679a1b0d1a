"""End to end on the real local stack: four service processes, Kafka 4 (KRaft) and FerretDB."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from complaints_cli.runner import RunOptions, run
from intake.adapters.mongo import PERSONAL_DATA_COLLECTIONS
from servicekit.mongo import find_all
from tests._builders.log_scan import found_in

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.stack, pytest.mark.e2e]


class StoredNumbers:
    """Phone and ID numbers found in a run's collections, by collection (`collection:_id`)."""

    def __init__(self) -> None:
        self.documents: dict[str, int] = {}
        self.findings: dict[str, list[str]] = {}

    async def __call__(self, db: AsyncDatabase[Any]) -> None:
        for name in sorted(await db.list_collection_names()):
            docs = await find_all(db[name], {})
            self.documents[name] = len(docs)
            self.findings[name] = [
                f"{name}:{doc['_id']}: {found}"
                for doc in docs
                if (found := found_in(json.dumps(doc, ensure_ascii=False, default=str)))
            ]


def test_every_complaint_reaches_every_stage_once(
    local_stack: None, capsys: pytest.CaptureFixture[str]
) -> None:
    stored = StoredNumbers()
    options = RunOptions(count=240, timeout=180.0, progress=False, label="e2e", inspect=stored)
    counts = asyncio.run(run(options))
    with capsys.disabled():
        sys.stdout.write(f"\n{counts.line('e2e')}\n")
    assert counts.sent == 240
    assert counts.normalized == counts.sent
    assert counts.classified == counts.normalized
    # Complaints get clocks; enquiries and out-of-scope reports do not (DOMAIN.md §2).
    assert counts.expected_deadlines == counts.kinds["complaint"]
    assert counts.with_deadlines == counts.expected_deadlines > 0
    assert counts.acknowledged == counts.expected_acks == counts.classified
    assert counts.lost == 0
    assert counts.duplicated == 0
    assert set(counts.clocks) >= {"acknowledge", "resolution"}
    # Personal numbers are stored only where declared: the scan finds them there (so it can
    # find them at all), and nowhere else — complaints, decisions, cases, notifications.
    assert stored.documents.get("complaints") == counts.sent
    assert all(stored.findings.get(name) for name in PERSONAL_DATA_COLLECTIONS)
    leaks = [
        finding
        for name, findings in stored.findings.items()
        if name not in PERSONAL_DATA_COLLECTIONS
        for finding in findings
    ]
    assert leaks == []
