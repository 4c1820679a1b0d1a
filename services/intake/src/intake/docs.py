"""`python -m intake.docs`: intake's AsyncAPI document, from its own app (ADR 0014)."""

from __future__ import annotations

from pathlib import Path

from faststream.asgi import AsgiFastStream

from contracts import ComplaintNormalized, MessageDeadLettered, RawComplaintSubmitted
from servicekit.asyncapi import Published
from servicekit.service_docs import ServiceDocs, docs_clock, docs_settings

SUMMARY = "Validates, normalises and masks what channels send; assigns the case number."

PUBLISHES: tuple[Published, ...] = (
    (RawComplaintSubmitted, "submissions to its `POST /complaints` HTTP API"),
    (ComplaintNormalized, ""),
    (MessageDeadLettered, "raw messages it cannot take in, and refused submissions"),
)


def build(policy_dir: Path) -> AsgiFastStream:
    """intake's own app on fixed settings and in-memory ports: nothing connects."""
    from intake.adapters.memory import InMemoryComplaintStore
    from intake.app import Ports, create_app
    from intake.settings import IntakeSettings

    return create_app(
        IntakeSettings(**docs_settings(policy_dir)), Ports(InMemoryComplaintStore(), docs_clock())
    )


DOCS = ServiceDocs("intake", SUMMARY, PUBLISHES, build)
documented = DOCS.documented  # `faststream docs gen --factory intake.docs:documented`

if __name__ == "__main__":
    raise SystemExit(DOCS.main())
