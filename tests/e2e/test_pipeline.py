"""End to end on the real local stack: four service processes, Kafka 4 (KRaft) and FerretDB."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from complaints_cli.runner import RunOptions, run

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.stack, pytest.mark.e2e]


@pytest.fixture(scope="module")
def local_stack() -> None:
    """Start (or reuse) the local Kafka and FerretDB; idempotent and fast when already up."""
    subprocess.run([sys.executable, str(ROOT / "deploy" / "local" / "stack.py"), "up"], check=True)


def test_every_complaint_reaches_every_stage_once(
    local_stack: None, capsys: pytest.CaptureFixture[str]
) -> None:
    counts = asyncio.run(run(RunOptions(count=240, timeout=180.0, progress=False, label="e2e")))
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
