"""`python -m notifier.docs`: notifier's AsyncAPI document, from its own app (ADR 0014)."""

from __future__ import annotations

from pathlib import Path

from faststream.asgi import AsgiFastStream

from contracts import MessageDeadLettered, NotificationSent
from servicekit.asyncapi import Published
from servicekit.service_docs import ServiceDocs, docs_clock, docs_settings

SUMMARY = "Tells customers and staff, once per event, over SMS, e-mail, webhooks, robots."

PUBLISHES: tuple[Published, ...] = (
    (NotificationSent, ""),
    (MessageDeadLettered, ""),
)


def build(policy_dir: Path) -> AsgiFastStream:
    """notifier's own app on fixed settings and in-memory ports: nothing connects."""
    from notifier.adapters.memory import InMemoryContactBook, InMemoryNotificationLog
    from notifier.app import Ports, create_app
    from notifier.settings import NotifierSettings

    ports = Ports(log=InMemoryNotificationLog(), contacts=InMemoryContactBook(), clock=docs_clock())
    return create_app(NotifierSettings(**docs_settings(policy_dir)), ports)


DOCS = ServiceDocs("notifier", SUMMARY, PUBLISHES, build)
documented = DOCS.documented  # `faststream docs gen --factory notifier.docs:documented`

if __name__ == "__main__":
    raise SystemExit(DOCS.main())
