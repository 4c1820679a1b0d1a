"""After the end-to-end runs: the services' logs hold no phone numbers and no ID numbers.

Runs last in the e2e folder (file order) and reads what the pipeline runs before it wrote to
`.local/logs/`. It fails if those logs are missing, so it can never pass by looking at nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from complaints_cli.pipeline import SERVICES

ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / ".local" / "logs"
pytestmark = [pytest.mark.stack, pytest.mark.e2e]

# Not inside a longer ASCII token (a UUID's `c147-4685-8981-…`, a hex digest); Chinese text right
# before a number does not shield it.
PHONE = re.compile(r"(?<![0-9A-Za-z.\-])(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}(?![0-9A-Za-z\-])")
RESIDENT_ID = re.compile(
    r"(?<![0-9A-Za-z])\d{6}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
    r"(?![0-9A-Za-z])"
)


def test_service_logs_from_the_runs_contain_no_personal_numbers() -> None:
    logs = {service: sorted(LOGS.glob(f"{service}-*.log")) for service in SERVICES}
    assert all(logs.values()), f"no logs of a pipeline run in {LOGS}: {logs}"
    findings: list[str] = []
    lines = 0
    for paths in logs.values():
        for path in paths:
            for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                lines += 1
                findings += [
                    f"{path.name}:{number}: …{match.group(0)[:3]}…"
                    for pattern in (PHONE, RESIDENT_ID)
                    if (match := pattern.search(line))
                ]
    assert lines > 100
    assert findings == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("call 13812345678 now", True),
        ("+86 138-1234-5678", True),
        ("id 110105199003071234", True),
        ("offset 1795516251124 epoch ms", False),
        ("CP20261124-7K3M9Q2XAB", False),
        ("+86138****5678", False),
        ("电话13812345678", True),
        ("身份证110105199003071234。", True),
        ("complaints-sla-61eeaedc-c147-4685-8981-d7240dcf4887", False),
    ],
)
def test_the_patterns_find_what_they_should(text: str, found: bool) -> None:
    assert bool(PHONE.search(text) or RESIDENT_ID.search(text)) is found
