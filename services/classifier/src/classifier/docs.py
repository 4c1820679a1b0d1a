"""`python -m classifier.docs`: classifier's AsyncAPI document, from its own app (ADR 0014)."""

from __future__ import annotations

from pathlib import Path

from faststream.asgi import AsgiFastStream

from contracts import ComplaintClassified, IncidentChanged, MessageDeadLettered
from servicekit.asyncapi import Published
from servicekit.service_docs import ServiceDocs, docs_clock, docs_settings

PUBLISHES: tuple[Published, ...] = (
    (ComplaintClassified, ""),
    (
        IncidentChanged,
        "opened and grown; closing, merging and taking members out belong to "
        "the case API (not yet built)",
    ),
    (MessageDeadLettered, ""),
)


def build(policy_dir: Path) -> AsgiFastStream:
    """classifier's own app on fixed settings and in-memory ports: nothing connects."""
    from classifier.adapters.memory import InMemoryClassificationStore
    from classifier.app import Ports, create_app
    from classifier.settings import ClassifierSettings

    ports = Ports(InMemoryClassificationStore(), docs_clock())
    return create_app(ClassifierSettings(**docs_settings(policy_dir)), ports)


DOCS = ServiceDocs(
    "classifier", "Decides kind, category, severity and flags, with explanations.", PUBLISHES, build
)
documented = DOCS.documented  # `faststream docs gen --factory classifier.docs:documented`

if __name__ == "__main__":
    raise SystemExit(DOCS.main())
