"""`python -m sla.docs`: sla's AsyncAPI document, from its own app (ADR 0014)."""

from __future__ import annotations

from pathlib import Path

from faststream.asgi import AsgiFastStream

from contracts import (
    CaseActionRejected,
    CaseActionTaken,
    CaseStateChanged,
    CaseUpdated,
    MessageDeadLettered,
    SlaChanged,
)
from servicekit.asyncapi import Published
from servicekit.service_docs import ServiceDocs, docs_clock, docs_settings

SUMMARY = "Keeps every clock of every complaint and each case's lifecycle."

PUBLISHES: tuple[Published, ...] = (
    (SlaChanged, ""),
    (CaseActionTaken, "staff actions taken through its `/cases` API"),
    (CaseStateChanged, ""),
    (CaseActionRejected, ""),
    (CaseUpdated, "each case's whole state after every change of it"),
    (MessageDeadLettered, ""),
)


def build(policy_dir: Path) -> AsgiFastStream:
    """sla's own app on fixed settings and in-memory ports: nothing connects."""
    from sla.adapters.memory import InMemoryCaseStore, InMemoryDueIndex
    from sla.app import Ports, create_app
    from sla.settings import SlaSettings

    ports = Ports(InMemoryCaseStore(), InMemoryDueIndex(), docs_clock())
    return create_app(SlaSettings(**docs_settings(policy_dir)), ports)


DOCS = ServiceDocs("sla", SUMMARY, PUBLISHES, build)
documented = DOCS.documented  # `faststream docs gen --factory sla.docs:documented`

if __name__ == "__main__":
    raise SystemExit(DOCS.main())
