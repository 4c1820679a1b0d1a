"""The classifier app as its AsyncAPI document sees it: in-memory ports, so nothing connects.

`faststream docs gen --factory classifier.docs:documented` (FastStream's `cli` extra) writes its own
document from it; `python -m classifier.docs` prints the catalogue's: the same, with the
contracts' payloads, partitions, retention and consumer groups (`complaints catalogue`
keeps it in `shared/asyncapi/`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from faststream.asgi import AsgiFastStream

from contracts import ComplaintClassified, IncidentChanged, MessageDeadLettered
from servicekit.asyncapi import Published, docs_settings, document, main, specification
from servicekit.clock import FakeClock

SERVICE = "classifier"
DESCRIPTION = "Decides kind, category, severity and flags, with explanations."
PUBLISHES: tuple[Published, ...] = (
    (ComplaintClassified, ""),
    (
        IncidentChanged,
        "opened and grown; closing, merging and taking members out belong to "
        "the case API (not yet built)",
    ),
    (MessageDeadLettered, ""),
)
"""What the service publishes, with a note on when: its events, what its HTTP API takes in, and
dead letters (every consumer dead-letters what it cannot process)."""


def _clock() -> FakeClock:
    return FakeClock(datetime(2026, 1, 1, tzinfo=UTC))


def build(policy_dir: Path = Path("policies")) -> AsgiFastStream:
    """The service's own app on fixed settings and in-memory ports."""
    from classifier.adapters.memory import InMemoryClassificationStore
    from classifier.app import Ports, create_app
    from classifier.settings import ClassifierSettings

    ports = Ports(InMemoryClassificationStore(), _clock())
    return create_app(ClassifierSettings(**docs_settings(policy_dir)), ports)


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
