"""The intake app as its AsyncAPI document sees it: in-memory ports, so nothing connects.

`faststream docs gen --factory intake.docs:documented` (FastStream's `cli` extra) writes its own
document from it; `python -m intake.docs` prints the catalogue's: the same, with the
contracts' payloads, partitions, retention and consumer groups (`complaints catalogue`
keeps it in `shared/asyncapi/`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from faststream.asgi import AsgiFastStream

from contracts import ComplaintNormalized, MessageDeadLettered, RawComplaintSubmitted
from servicekit.asyncapi import Published, docs_settings, document, main, specification
from servicekit.clock import FakeClock

SERVICE = "intake"
DESCRIPTION = "Validates, normalises and masks what channels send; assigns the case number."
PUBLISHES: tuple[Published, ...] = (
    (RawComplaintSubmitted, "submissions to its `POST /complaints` HTTP API"),
    (ComplaintNormalized, ""),
    (MessageDeadLettered, "raw messages it cannot take in, and refused submissions"),
)
"""What the service publishes, with a note on when: its events, what its HTTP API takes in, and
dead letters (every consumer dead-letters what it cannot process)."""


def _clock() -> FakeClock:
    return FakeClock(datetime(2026, 1, 1, tzinfo=UTC))


def build(policy_dir: Path = Path("policies")) -> AsgiFastStream:
    """The service's own app on fixed settings and in-memory ports."""
    from intake.adapters.memory import InMemoryComplaintStore
    from intake.app import Ports, create_app
    from intake.settings import IntakeSettings

    return create_app(
        IntakeSettings(**docs_settings(policy_dir)), Ports(InMemoryComplaintStore(), _clock())
    )


def asyncapi(policy_dir: Path = Path("policies")) -> dict[str, Any]:
    """The service's AsyncAPI document."""
    app = build(policy_dir)
    return document(app, service=SERVICE, description=DESCRIPTION, publishes=PUBLISHES)


def documented() -> AsgiFastStream:
    """The app with its publishers declared and FastStream's AsyncAPI factory as its schema."""
    app = build()
    app.schema = specification(app, service=SERVICE, description=DESCRIPTION, publishes=PUBLISHES)
    return app


if __name__ == "__main__":
    raise SystemExit(main(asyncapi))
