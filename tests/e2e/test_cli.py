"""The `complaints` console command installed into the project's virtualenv."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent / "complaints"


def complaints(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(BIN), *args], input=stdin, capture_output=True, check=False, timeout=120
    )


def test_intake_validate_answers_every_line_in_order() -> None:
    lines = [
        b'{"channel": "sms", "external_id": "s-1", "text": "\xe8\xaf\x9d\xe8\xb4\xb9\xe5\xa4\x9a'
        b'\xe6\x89\xa3\xe4\xba\x86", "complainant": {"phone": "13812345678"}}',
        b"not json at all",
        b'{"channel": "pigeon", "text": "hello"}',
        b"\xff\xfe\x00",
    ]
    result = complaints("intake", "validate", stdin=b"\n".join(lines) + b"\n")
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["status"] for o in out] == ["accepted", "rejected", "rejected", "rejected"]
    assert out[1]["reason"] == "not_json"
    assert out[2]["reason"] == "unknown_channel"
    normalized = out[0]["normalized"]
    assert normalized["type"] == "cn.complaints.normalized.v1"
    assert "13812345678" not in json.dumps(normalized)


def test_classify_reads_json_lines() -> None:
    rows = [
        {
            "id": "a",
            "channel": "regulator",
            "text": "（工信部转办）用户反映被多扣话费，要求退还。",
            "customer_tier": "standard",
        },
        {"id": "b", "channel": "hotline", "text": "请问携号转网需要带什么证件？"},
    ]
    stdin = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode()
    result = complaints("classify", stdin=stdin)
    assert result.returncode == 0, result.stderr
    out = {o["id"]: o for o in map(json.loads, result.stdout.splitlines())}
    assert out["a"]["kind"] == "complaint"
    assert out["a"]["severity"] in {"P1", "P2"}
    assert "over_level" in out["a"]["flags"]
    assert out["b"]["kind"] == "enquiry"
    assert out["b"]["severity"] is None


def test_sla_deadlines_for_a_general_complaint() -> None:
    result = complaints(
        "sla",
        "deadlines",
        "--received",
        "2026-11-24T10:00:00+08:00",
        "--severity",
        "P4",
        "--channel",
        "web",
    )
    assert result.returncode == 0, result.stderr
    due = json.loads(result.stdout)
    assert due["acknowledge"].startswith("2026-11-24T11:00:00+08:00")
    # 3 working days after a Tuesday: end of working hours on Friday.
    assert due["resolution"].startswith("2026-11-27T18:00:00+08:00")
