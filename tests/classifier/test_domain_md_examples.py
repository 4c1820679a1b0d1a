"""Every example DOMAIN.md gives comes out as DOMAIN.md says, through `complaints classify`, in
Traditional (as the document writes them) and in Simplified (issue 16).

The examples and what should come of them are read from DOMAIN.md by `domain_examples` at test
time, so a sharpened rule in the document is tested the moment it is written. Bare numbers (the
row's `120`, `110`) and the sources' own wording quoted with their reference (`002: …`) are cues
for the rules, not a customer's words, and are left out by that reader.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import opencc
import pytest

from tests.classifier.domain_examples import CARRIER, Example, all_examples

ROOT = Path(__file__).resolve().parents[2]
COMPLAINTS = Path(sys.executable).parent / "complaints"
SCRIPTS = {"traditional": None, "simplified": opencc.OpenCC("t2s")}
EXAMPLES = [*all_examples(), Example(id="carrier-alone", text=CARRIER.format("我说"))]
RANK = {"P1": 1, "P2": 2, "P3": 3, "P4": 4}
# Known misses, by the example's words, each with why; strict, so a fix shows as XPASS → fail.
KNOWN_MISSES: dict[str, str] = {}


def _param(example: Example) -> Any:
    """The example as a test case, marked when it is a known miss."""
    reason = KNOWN_MISSES.get(example.text)
    marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
    return pytest.param(example, id=example.id, marks=marks)


def test_the_reader_finds_every_kind_of_example() -> None:
    ids = [e.id for e in EXAMPLES]
    assert len(ids) == len(set(ids))
    assert sum(e.category is not None for e in EXAMPLES) >= 35  # the taxonomy's keywords
    assert {e.severity for e in EXAMPLES} >= {"P1", "P2"}
    assert any(e.not_severity for e in EXAMPLES)  # 不會起訴
    assert {e.channel for e in EXAMPLES if e.flag == "over_level"} == {
        "media",
        "regulator",
        "superior",
    }


@pytest.fixture(scope="module")
def decisions() -> dict[tuple[str, str], dict[str, Any]]:
    """Every example in both scripts, classified by one `complaints classify` run."""
    lines = []
    for script, converter in SCRIPTS.items():
        for example in EXAMPLES:
            text = converter.convert(example.text) if converter else example.text
            row = {"id": f"{script}:{example.id}", "channel": example.channel, "text": text}
            lines.append(json.dumps(row, ensure_ascii=False))
    run = subprocess.run(
        [str(COMPLAINTS), "classify", "--policy-dir", str(ROOT / "policies")],
        input="\n".join(lines).encode(),
        capture_output=True,
        check=True,
        timeout=240,
    )
    out = [json.loads(line) for line in run.stdout.decode().splitlines() if line.strip()]
    return {tuple(row["id"].split(":", 1)): row for row in out}


@pytest.mark.parametrize("script", list(SCRIPTS))
@pytest.mark.parametrize("example", [_param(e) for e in EXAMPLES])
def test_domain_md_example(
    decisions: dict[tuple[str, str], dict[str, Any]], script: str, example: Example
) -> None:
    decision = decisions[(script, example.id)]
    shown = f"{example.text!r} → {decision['kind']} {decision['category']} {decision['severity']}"
    assert decision["kind"] == "complaint", shown
    if example.category is not None:
        assert (decision["category"] or "").split("/", 1)[0] == example.category, shown
    if example.severity is not None:  # the highest level any rule gives: at least this one
        assert RANK[decision["severity"]] <= RANK[example.severity], shown
    if example.not_severity is not None:
        assert RANK[decision["severity"]] > RANK[example.not_severity], shown
    if example.flag is not None:
        assert example.flag in decision["flags"], shown
    if example.id == "carrier-alone":  # the complaint the §3 cues go into grades nothing itself
        assert (decision["severity"], decision["flags"]) == ("P4", []), shown
