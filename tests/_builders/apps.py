"""Each service's app as its own `docs` module builds it: fixed settings, in-memory ports, so
nothing connects; and what each declares it publishes."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from faststream.asgi import AsgiFastStream

from classifier import docs as classifier_docs
from intake import docs as intake_docs
from notifier import docs as notifier_docs
from servicekit.asyncapi import Published
from sla import docs as sla_docs

POLICIES = Path(__file__).resolve().parents[2] / "policies"
_DOCS = {
    "intake": intake_docs,
    "classifier": classifier_docs,
    "sla": sla_docs,
    "notifier": notifier_docs,
}
BUILDERS: dict[str, Callable[[], AsgiFastStream]] = {
    service: partial(module.DOCS.build, POLICIES) for service, module in _DOCS.items()
}
"""Each service's app, built anew on every call."""
ASYNCAPI: dict[str, Callable[[], dict[str, Any]]] = {
    service: partial(module.DOCS.asyncapi, POLICIES) for service, module in _DOCS.items()
}
"""Each service's AsyncAPI document, as `python -m <service>.docs` prints it."""
PUBLISHES: dict[str, tuple[Published, ...]] = {
    service: module.DOCS.publishes for service, module in _DOCS.items()
}
"""What each service declares it publishes."""
