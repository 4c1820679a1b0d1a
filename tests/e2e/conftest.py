"""Fixtures of the end-to-end tests: the local stack; every run's service logs scanned after it.

Whichever e2e module starts service processes (`complaints_cli.pipeline.Pipeline.start`), the
log text those processes wrote during the module must exist and hold no phone or ID numbers;
the check runs when the module's own fixtures have stopped the processes, so it needs no order.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from complaints_cli.pipeline import Pipeline, ServiceProcess
from tests._builders.log_scan import personal_numbers
from tests._builders.stack import start_local_stack


@pytest.fixture(scope="module")
def local_stack() -> None:
    """Start (or reuse) the local Kafka and FerretDB; idempotent and fast when already up."""
    start_local_stack()


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


@pytest.fixture(scope="module", autouse=True)
def pipeline_logs_hold_no_personal_numbers() -> Iterator[None]:
    """Record where each service log stood when a process started; scan what came after."""
    offsets: dict[Path, int] = {}
    start = Pipeline.start

    def recording(self: Pipeline, service: str, *, replica: int = 0) -> ServiceProcess:
        logs = self.config.log_dir
        before = {p: _size(p) for p in logs.glob("*.log")} if logs.exists() else {}
        started = start(self, service, replica=replica)
        offsets.setdefault(started.log_path, before.get(started.log_path, 0))
        return started

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Pipeline, "start", recording)
        yield
    findings: list[str] = []
    for path, offset in sorted(offsets.items()):
        with path.open("rb") as log:
            log.seek(offset)
            text = log.read().decode(errors="replace")
        assert text.strip(), f"{path} got no log lines from its run: nothing to scan"
        findings += personal_numbers(path.name, text)
    assert findings == [], "personal numbers in the service logs"
