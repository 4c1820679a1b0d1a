"""After the end-to-end runs: the services' logs hold no phone numbers and no ID numbers.

Runs last in the e2e folder (file order) and reads what the pipeline runs before it wrote to
`.local/logs/`. It fails if those logs are missing, so it can never pass by looking at nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from complaints_cli.pipeline import SERVICES
from tests.personal_numbers import found_in

ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / ".local" / "logs"
pytestmark = [pytest.mark.stack, pytest.mark.e2e]


def test_service_logs_from_the_runs_contain_no_personal_numbers() -> None:
    logs = {service: sorted(LOGS.glob(f"{service}-*.log")) for service in SERVICES}
    assert all(logs.values()), f"no logs of a pipeline run in {LOGS}: {logs}"
    findings: list[str] = []
    lines = 0
    for paths in logs.values():
        for path in paths:
            for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                lines += 1
                if (found := found_in(line)) is not None:
                    findings.append(f"{path.name}:{number}: {found}")
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
    assert (found_in(text) is not None) is found
