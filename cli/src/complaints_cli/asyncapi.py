"""The services' AsyncAPI 3.0 documents, collected from the services themselves.

Each service writes its own (`python -m <service>.docs`: FastStream's document from the service's
broker, with the contracts put in by `servicekit.asyncapi`). The CLI runs them as processes, as it
runs the services, so it imports none of their code; what the Markdown pages need (who reads a
topic in which group, who publishes which message) is read back from the documents.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from complaints_cli.catalogue_facts import REPO, SERVICES, ServiceEntry
from contracts import MESSAGES_FOR_TOPIC, Topic
from servicekit.asyncapi import Subscription

MODELS: dict[str, type[BaseModel]] = {
    model.__name__: model for models in MESSAGES_FOR_TOPIC.values() for model in models
}
"""Every message model by its schema name in the documents' components."""


class DocumentError(RuntimeError):
    """A service did not print its AsyncAPI document."""


def _resolve(document: Mapping[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _models(payload: Mapping[str, Any]) -> list[type[BaseModel]]:
    options = payload.get("oneOf", [payload])
    return [MODELS[option["$ref"].rsplit("/", 1)[-1]] for option in options]


def entry(service: str, document: dict[str, Any]) -> ServiceEntry:
    """A service's document with its subscriptions and published models read back from it."""
    subs: list[Subscription] = []
    published: list[type[BaseModel]] = []
    # FastStream's order of operations differs from run to run: read them by channel address.
    operations = sorted(
        document["operations"].values(),
        key=lambda op: _resolve(document, op["channel"]["$ref"])["address"],
    )
    for operation in operations:
        channel = _resolve(document, operation["channel"]["$ref"])
        if operation["action"] == "receive":
            group = operation["bindings"]["kafka"]["groupId"]["enum"][0]
            topic = Topic(channel["address"])
            subs.append(Subscription(service, group, topic, channel.get("description", "")))
            continue
        for ref in channel["messages"].values():
            message = _resolve(document, ref["$ref"])
            published += [m for m in _models(message["payload"]) if m not in published]
    return ServiceEntry(
        service,
        document,
        tuple(subs),
        tuple(published),
        document["info"].get("description", ""),
    )


def describe_all(services: Sequence[str] = SERVICES) -> list[ServiceEntry]:
    """Every service's document, from `python -m <service>.docs` (the four run at once)."""
    policies = str(REPO / "policies")
    running = {
        service: subprocess.Popen(
            [sys.executable, "-m", f"{service}.docs", "--policy-dir", policies],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for service in services
    }
    entries = []
    for service, process in running.items():
        out, err = process.communicate(timeout=300)
        if process.returncode != 0:
            tail = err.decode(errors="replace").strip().splitlines()[-5:]
            raise DocumentError(f"{service}.docs exited {process.returncode}: {' | '.join(tail)}")
        entries.append(entry(service, json.loads(out)))
    return entries
