"""`complaints intake validate` judges receipt times by the pack's intake.yaml, as intake does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def validate(lines: list[dict[str, str]], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The CLI's verdicts for `lines`, run from the repository root with `env` added."""
    return subprocess.run(
        [sys.executable, "-m", "complaints_cli.main", "intake", "validate"],
        input="".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env},
        check=False,
    )


def complaint(channel: str, hours_back: float) -> dict[str, str]:
    """A complaint on `channel` dated `hours_back` hours before now."""
    at = datetime.now(UTC) - timedelta(hours=hours_back)
    return {"channel": channel, "text": "宽带断了三天", "received_at": at.isoformat()}


def statuses(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 0, result.stderr
    return [json.loads(line)["status"] for line in result.stdout.splitlines()]


def test_the_packs_allowance_is_used_not_the_default(tmp_path: Path) -> None:
    pack = tmp_path / "strict"
    pack.mkdir()
    (pack / "intake.yaml").write_text(
        "receipt:\n  allowance: 1h\n"
        "  late_channels:\n    fax: {allowance: 2d, reason: keyed in by hand}\n"
    )
    env = {"INTAKE_POLICY_DIR": str(tmp_path), "INTAKE_POLICY_PACK": "strict"}
    lines = [complaint("web", 0.5), complaint("web", 3), complaint("fax", 40), complaint("fax", 80)]
    # The default (72 h, fax 7 d) would accept all four; the pack refuses the 3 h web one
    # and the 80 h fax.
    assert statuses(validate(lines, env)) == ["accepted", "rejected", "accepted", "rejected"]
    answer = json.loads(validate(lines[1:2], env).stdout)
    assert answer["detail"] == "receipt time is more than 1 h back, the most the web channel allows"


def test_the_shipped_telecom_pack_is_read_from_the_policies_directory() -> None:
    lines = [complaint("web", 71), complaint("web", 73), complaint("letter", 24 * 29)]
    assert statuses(validate(lines, {})) == ["accepted", "rejected", "accepted"]


def test_a_bad_intake_yaml_stops_the_tool_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "intake.yaml").write_text("receipt:\n  allowance: 3 working days\n")
    env = {"INTAKE_POLICY_DIR": str(tmp_path), "INTAKE_POLICY_PACK": "bad"}
    result = validate([complaint("web", 0)], env)
    assert result.returncode == 2
    assert "intake.yaml" in result.stderr
    assert "receipt.allowance" in result.stderr
    assert result.stdout == ""
