"""Each service's app built by its own `create_app` with in-memory ports, so nothing connects.

The one place the CLI imports the services' packages: FastStream documents a broker only once the
service has declared its subscribers on it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from faststream.asgi import AsgiFastStream

from complaints_cli.catalogue_facts import REPO


def _settings_kwargs() -> dict[str, Any]:
    """Fixed settings so the generated documents never depend on the environment."""
    from servicekit.settings import KafkaSettings, MongoSettings

    return {
        "kafka": KafkaSettings(create_topics=False),
        "mongo": MongoSettings(),
        "policy_dir": REPO / "policies",
        "policy_pack": "telecom",
    }


def _clock() -> Any:
    from servicekit.clock import FakeClock

    return FakeClock(datetime(2026, 1, 1, tzinfo=UTC))


def _intake() -> AsgiFastStream:
    from intake.adapters.memory import InMemoryComplaintStore
    from intake.app import Ports, create_app
    from intake.settings import IntakeSettings

    return create_app(
        IntakeSettings(**_settings_kwargs()), Ports(InMemoryComplaintStore(), _clock())
    )


def _classifier() -> AsgiFastStream:
    from classifier.adapters.memory import InMemoryClassificationStore
    from classifier.app import Ports, create_app
    from classifier.settings import ClassifierSettings

    return create_app(
        ClassifierSettings(**_settings_kwargs()), Ports(InMemoryClassificationStore(), _clock())
    )


def _sla() -> AsgiFastStream:
    from sla.adapters.memory import InMemoryCaseStore, InMemoryDueIndex
    from sla.app import Ports, create_app
    from sla.settings import SlaSettings

    ports = Ports(InMemoryCaseStore(), InMemoryDueIndex(), _clock())
    return create_app(SlaSettings(**_settings_kwargs()), ports)


def _notifier() -> AsgiFastStream:
    from notifier.adapters.memory import InMemoryContactBook, InMemoryNotificationLog
    from notifier.app import Ports, create_app
    from notifier.settings import NotifierSettings

    ports = Ports(log=InMemoryNotificationLog(), contacts=InMemoryContactBook(), clock=_clock())
    return create_app(NotifierSettings(**_settings_kwargs()), ports)


BUILDERS: dict[str, Callable[[], AsgiFastStream]] = {
    "intake": _intake,
    "classifier": _classifier,
    "sla": _sla,
    "notifier": _notifier,
}
