"""Every form of personal data issue 21 found unmasked, and ordinary numbers left alone.

Each form goes through `process_raw` (what intake publishes on complaints.normalized.v1) and
through `complaints intake validate` (one process for the whole corpus).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from intake.domain import Accepted, process_raw
from tests._builders.personal_forms import PERSONAL

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
ORDINARY = [
    "共计128.50元，于2026.11.24办理",
    "案件号CP20261124-7K3M9Q2XAB还没回复",
    "2026/11/24 13:45 来电",
    "3月5日扣了39元，套餐是199元",
    "我是说这个月的流量不对",
    "地铁3号线出口",
]


def published_text(text: str) -> str:
    raw = json.dumps({"channel": "web", "text": text}, ensure_ascii=False).encode()
    outcome = process_raw(raw, now=NOW, secret=b"k")
    assert isinstance(outcome, Accepted), outcome
    return outcome.complaint.text


@pytest.mark.parametrize(("text", "secret"), PERSONAL)
def test_every_form_is_masked_on_the_topic(text: str, secret: str) -> None:
    assert secret not in published_text(text)


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_amounts_dates_and_case_numbers_are_kept(text: str) -> None:
    assert published_text(text) == text


def test_every_form_is_masked_by_complaints_intake_validate() -> None:
    lines = [json.dumps({"channel": "web", "text": t}, ensure_ascii=False) for t, _ in PERSONAL]
    result = subprocess.run(
        [sys.executable, "-m", "complaints_cli.main", "intake", "validate"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    answers = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert [a["status"] for a in answers] == ["accepted"] * len(PERSONAL)
    for (_, secret), answer in zip(PERSONAL, answers, strict=True):
        assert secret not in json.dumps(answer["normalized"], ensure_ascii=False)
