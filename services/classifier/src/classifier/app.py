"""Assembly of the classifier service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from faststream.asgi import AsgiFastStream
from faststream.asgi.types import ASGIApp

from classifier import handlers
from classifier.adapters.memory import InMemoryClassificationStore, InMemoryIncidentLedger
from classifier.adapters.memory_corrections import InMemoryCorrectionStore
from classifier.adapters.mongo import MongoClassificationStore
from classifier.adapters.mongo_corrections import MongoCorrectionStore
from classifier.adapters.mongo_incident_ledger import MongoIncidentLedger
from classifier.domain import Classifier
from classifier.incident_api import PREFIX, PathPrefix, create_incident_api
from classifier.incident_desk import IncidentDesk
from classifier.metrics import ClassifierMetrics
from classifier.ports import ClassificationStore, CorrectionStore, IncidentLedger
from classifier.regrading import Regrading
from classifier.service import Classification
from classifier.settings import ClassifierSettings
from servicekit.clock import Clock
from servicekit.shell import ServiceShell

SERVICE = "classifier"


@dataclass
class Ports:
    """Outside-world adapters; tests pass in-memory ones."""

    store: ClassificationStore
    clock: Clock
    corrections: CorrectionStore | None = None
    """Staff regrades; in-memory when tests leave it out."""
    ledger: IncidentLedger | None = None
    """Operations' incident changes; over the in-memory store when tests leave it out."""


def create_app(settings: ClassifierSettings, ports: Ports | None = None) -> AsgiFastStream:
    """Build the classifier app; a bad policy pack fails here, before anything connects."""
    classifier = Classifier.load(policy_dir=settings.policy_dir, pack=settings.policy_pack)
    shell = ServiceShell(service=SERVICE, settings=settings, with_mongo=ports is None)
    if ports is None:
        db = shell.require_mongo().db
        ports = Ports(
            store=MongoClassificationStore(db),
            clock=shell.clock(),
            corrections=MongoCorrectionStore(db),
            ledger=MongoIncidentLedger(db),
        )

    classification = Classification(
        classifier=classifier,
        store=ports.store,
        publish=shell.publish,
        clock=ports.clock,
        metrics=ClassifierMetrics(shell.registry),
    )
    handlers.register(
        shell.broker,
        classification=classification,
        regrading=Regrading(store=ports.corrections or InMemoryCorrectionStore()),
        policy=shell.policy(ports.clock),
        settings=settings.kafka,
        verifier=shell.verifier,
    )
    return shell.app(
        on_startup=[ports.store.ensure_indexes],
        routes=_incident_api(settings, ports, classifier, shell),
    )


def _incident_api(
    settings: ClassifierSettings, ports: Ports, classifier: Classifier, shell: ServiceShell
) -> list[tuple[str, ASGIApp]]:
    """`/incidents…` when staff API keys are configured (none: the incident API is off)."""
    staff = settings.staff_keys()
    if not staff:
        return []
    desk = IncidentDesk(
        store=ports.store,
        ledger=ports.ledger
        or InMemoryIncidentLedger(cast(InMemoryClassificationStore, ports.store)),
        windows=classifier.history_windows,
        publish=shell.publish,
        clock=ports.clock,
    )
    return [(PathPrefix(PREFIX), create_incident_api(desk=desk, staff=staff))]
