"""Assembly of the classifier service."""

from __future__ import annotations

from dataclasses import dataclass

from faststream.asgi import AsgiFastStream

from classifier import handlers
from classifier.adapters.mongo import MongoClassificationStore
from classifier.domain import Classifier
from classifier.metrics import ClassifierMetrics
from classifier.ports import ClassificationStore
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


def create_app(settings: ClassifierSettings, ports: Ports | None = None) -> AsgiFastStream:
    """Build the classifier app; a bad policy pack fails here, before anything connects."""
    classifier = Classifier.load(policy_dir=settings.policy_dir, pack=settings.policy_pack)
    shell = ServiceShell(service=SERVICE, settings=settings, with_mongo=ports is None)
    live = ports or Ports(
        store=MongoClassificationStore(shell.require_mongo().db), clock=shell.clock()
    )
    classification = Classification(
        classifier=classifier,
        store=live.store,
        publish=shell.publish,
        clock=live.clock,
        metrics=ClassifierMetrics(shell.registry),
    )
    handlers.register(
        shell.broker,
        classification=classification,
        policy=shell.policy(live.clock),
        settings=settings.kafka,
    )
    return shell.app(on_startup=[live.store.ensure_indexes])
