"""What the four services really register: each app built with in-memory ports, /metrics read.

Nothing connects: the apps are never started; their ASGI `/metrics` route answers from the
registry the service shell filled while the app was assembled.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import httpx
from faststream.asgi import AsgiFastStream

from classifier.adapters.memory import InMemoryClassificationStore
from classifier.app import Ports as ClassifierPorts
from classifier.app import create_app as classifier_app
from classifier.settings import ClassifierSettings
from intake.adapters.memory import InMemoryComplaintStore
from intake.app import Ports as IntakePorts
from intake.app import create_app as intake_app
from intake.settings import IntakeSettings
from notifier.adapters.memory import InMemoryContactBook, InMemoryNotificationLog
from notifier.app import Ports as NotifierPorts
from notifier.app import create_app as notifier_app
from notifier.settings import NotifierSettings
from servicekit.clock import FakeClock
from sla.adapters.memory import InMemoryCaseStore, InMemoryDueIndex
from sla.app import Ports as SlaPorts
from sla.app import create_app as sla_app
from sla.settings import SlaSettings

REPO = Path(__file__).resolve().parents[2]
POLICIES = REPO / "policies"
NOW = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
SERVICES = ("intake", "classifier", "sla", "notifier")

_TYPE_LINE = re.compile(r"^# TYPE (\S+) (\S+)$", re.MULTILINE)
_HISTOGRAM_SERIES = ("_bucket", "_count", "_sum")


def _sla_ports(clock: FakeClock) -> SlaPorts:
    return SlaPorts(cases=InMemoryCaseStore(), index=InMemoryDueIndex(), clock=clock)


def _build(service: str) -> AsgiFastStream:
    clock = FakeClock(NOW)
    builders: dict[str, Callable[[], AsgiFastStream]] = {
        "intake": lambda: intake_app(
            IntakeSettings(policy_dir=POLICIES),
            IntakePorts(store=InMemoryComplaintStore(), clock=clock),
        ),
        "classifier": lambda: classifier_app(
            ClassifierSettings(policy_dir=POLICIES),
            ClassifierPorts(store=InMemoryClassificationStore(), clock=clock),
        ),
        "sla": lambda: sla_app(SlaSettings(policy_dir=POLICIES), _sla_ports(clock)),
        "notifier": lambda: notifier_app(
            NotifierSettings(policy_dir=POLICIES),
            NotifierPorts(
                log=InMemoryNotificationLog(), contacts=InMemoryContactBook(), clock=clock
            ),
        ),
    }
    return builders[service]()


async def _scrape(app: AsgiFastStream) -> str:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        response = await client.get("/metrics")
    response.raise_for_status()
    return response.text


@cache
def exposition(service: str) -> str:
    """The service's /metrics page right after assembly."""
    return asyncio.run(_scrape(_build(service)))


def series_names(text: str) -> dict[str, str]:
    """Every series name a /metrics page can carry, with its metric type.

    Counters are declared with their `_total` name; a histogram `x` yields `x_bucket`, `x_count`
    and `x_sum`. Labelled metrics appear (HELP and TYPE lines) before their first sample.
    """
    names: dict[str, str] = {}
    for name, kind in _TYPE_LINE.findall(text):
        names[name] = kind
        if kind == "histogram":
            names |= {name + suffix: kind for suffix in _HISTOGRAM_SERIES}
    return names


@cache
def registered() -> dict[str, dict[str, str]]:
    """Series names per service."""
    return {service: series_names(exposition(service)) for service in SERVICES}


def all_series() -> set[str]:
    """Every series name any service exports."""
    return {name for names in registered().values() for name in names}
