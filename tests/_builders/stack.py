"""Starting the local stack from a test — allowed only in a test marked `stack`.

`make unit` runs `-m "not stack"` and must start no server: a fixture that reaches for the stack
from an unmarked test would start Kafka and FerretDB in whatever network namespace the unit run is
in. The root conftest tells this module which test is being set up; `start_local_stack` refuses
and names the test otherwise.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_current: dict[str, tuple[str, bool]] = {"test": ("", True)}


def setting_up(nodeid: str, *, marked_stack: bool) -> None:
    """Called by the root conftest before each test's fixtures are set up."""
    _current["test"] = (nodeid, marked_stack)


def start_local_stack() -> None:
    """Start (or reuse) the local Kafka and FerretDB; idempotent and fast when already up."""
    nodeid, marked = _current["test"]
    if not marked:
        raise RuntimeError(f"{nodeid} reaches for the local stack but is not marked `stack`")
    subprocess.run([sys.executable, str(ROOT / "deploy" / "local" / "stack.py"), "up"], check=True)
