"""The topic catalogue is what the code says: regenerated in memory, it equals the committed one.

The AsyncAPI documents come from each service's own `docs` module (FastStream's generation from the
service's broker); this is the CI step that fails when a committed document differs from them."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from complaints_cli.asyncapi import describe_all
from complaints_cli.asyncapi import entry as read_back
from complaints_cli.catalogue import generate, stale, write
from complaints_cli.catalogue_facts import ASYNCAPI_DIR, DOCS_DIR, SERVICES, ServiceEntry
from contracts import COMPACTED, EVENTS, MESSAGES_FOR_TOPIC, PARTITIONS, RETENTION_DAYS, Topic
from contracts.schemas import all_schemas, schema_name
from servicekit.asyncapi import topic_of
from tests._builders.apps import ASYNCAPI, PUBLISHES

REPO = Path(__file__).resolve().parents[2]
BUILD = re.compile(r"\b([A-Z]\w+)\.build\(")
LINK = re.compile(r"\]\(([^)#]+)\)")


@pytest.fixture(scope="module")
def entries() -> dict[str, ServiceEntry]:
    return {service: read_back(service, ASYNCAPI[service]()) for service in SERVICES}


@pytest.fixture(scope="module")
def files(entries: dict[str, ServiceEntry]) -> dict[Path, str]:
    return generate(list(entries.values()))


def test_committed_catalogue_matches_the_code(files: dict[Path, str]) -> None:
    outdated = stale(files, REPO)
    assert not outdated, f"stale: {outdated}; run `complaints catalogue --write` and review"


def test_every_topic_and_event_type_is_documented(files: dict[Path, str]) -> None:
    index = files[DOCS_DIR / "topics.md"]
    for topic in Topic:
        page = files[DOCS_DIR / "topics" / f"{topic.value}.md"]
        assert f"topics/{topic.value}.md" in index
        assert f"| Partitions | {PARTITIONS[topic]} |" in page
        if topic in COMPACTED:
            assert "| Retention | compacted: the latest record per complaint" in page
        else:
            assert f"| Retention | {RETENTION_DAYS[topic]} days |" in page
        assert f"kcat -b 127.0.0.1:9092 -C -t {topic.value}" in page
        for model in MESSAGES_FOR_TOPIC[topic]:
            name = schema_name(model)
            assert f"### `{name}`" in page, f"{name} missing on {topic.value}'s page"
            assert f"`{name}`" in index
            assert f"shared/schemas/{name}.json" in page


def test_links_in_the_pages_resolve(files: dict[Path, str]) -> None:
    for path, text in files.items():
        if path.suffix != ".md":
            continue
        for target in LINK.findall(text):
            if target.startswith("http"):
                continue
            assert (REPO / path.parent / target).resolve().exists(), f"{path}: {target}"


def test_python_examples_compile(files: dict[Path, str]) -> None:
    for path, text in files.items():
        for block in re.findall(r"```python\n(.*?)```", text, re.DOTALL):
            ast.parse(block, filename=str(path))


def test_consumers_come_from_the_services_subscribers(entries: dict[str, ServiceEntry]) -> None:
    consumed = {
        (s.service, s.group, s.topic) for entry in entries.values() for s in entry.subscriptions
    }
    assert consumed == {
        ("intake", "intake", Topic.RAW),
        ("classifier", "classifier", Topic.NORMALIZED),
        ("classifier", "classifier-regrade", Topic.LIFECYCLE),
        ("sla", "sla", Topic.CLASSIFIED),
        ("sla", "sla", Topic.NOTIFICATION_SENT),
        ("sla", "sla", Topic.LIFECYCLE),
        ("sla", "sla", Topic.INCIDENTS),  # a closed incident resolves its members
        ("notifier", "notifier", Topic.CLASSIFIED),
        ("notifier", "notifier", Topic.SLA),
        ("notifier", "notifier", Topic.LIFECYCLE),
        ("notifier", "notifier", Topic.INCIDENTS),
    }
    assert all(s.description for entry in entries.values() for s in entry.subscriptions)


def _service_events(service: str) -> set[str]:
    """Contract events the service's own code builds."""
    names = {event.__name__ for event in EVENTS}
    code = "\n".join(
        p.read_text(encoding="utf-8") for p in (REPO / "services" / service / "src").rglob("*.py")
    )
    return {name for name in BUILD.findall(code) if name in names}


@pytest.mark.parametrize("service", list(SERVICES))
def test_declared_producers_match_the_services_code(service: str) -> None:
    declared = {model.__name__ for model, _ in PUBLISHES[service]}
    # Every consumer dead-letters through servicekit.delivery; intake's HTTP API forwards raw.
    expected = _service_events(service) | {"MessageDeadLettered"}
    if service == "intake":
        expected.add("RawComplaintSubmitted")
    assert declared == expected


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def _resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


@pytest.mark.parametrize("service", list(SERVICES))
def test_asyncapi_documents_are_complete(service: str, entries: dict[str, ServiceEntry]) -> None:
    document = entries[service].asyncapi
    assert document["asyncapi"].startswith("3.")
    for ref in _refs(document):
        assert ref.startswith("#/"), ref
        _resolve(document, ref)  # raises if dangling
    receive = {
        (op["bindings"]["kafka"]["groupId"]["enum"][0], _channel(document, op)["address"])
        for op in document["operations"].values()
        if op["action"] == "receive"
    }
    assert receive == {(s.group, s.topic.value) for s in entries[service].subscriptions}
    send = {
        _channel(document, op)["address"]
        for op in document["operations"].values()
        if op["action"] == "send"
    }
    assert send == {topic_of(m).value for m, _ in PUBLISHES[service]}
    assert set(entries[service].publishes) == {m for m, _ in PUBLISHES[service]}
    assert "EmptyPayload" not in document["components"]["schemas"]


def _channel(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    channel: dict[str, Any] = _resolve(document, operation["channel"]["$ref"])
    return channel


def test_asyncapi_payloads_are_the_committed_json_schemas(
    entries: dict[str, ServiceEntry],
) -> None:
    schemas = all_schemas()
    models: dict[str, type[BaseModel]] = {
        m.__name__: m for models in MESSAGES_FOR_TOPIC.values() for m in models
    }
    seen = set()
    for entry in entries.values():
        components = entry.asyncapi["components"]["schemas"]
        for name, model in models.items():
            if name in components:
                seen.add(name)
                committed = schemas[schema_name(model)]
                assert set(components[name]["properties"]) == set(committed["properties"]), name
                assert components[name].get("required") == committed.get("required"), name
    assert seen == set(models)


def test_write_updates_and_prunes(files: dict[Path, str], tmp_path: Path) -> None:
    assert set(write(files, tmp_path)) == set(files)
    assert stale(files, tmp_path) == []
    page = DOCS_DIR / "topics" / "complaints.sla.v1.md"
    (tmp_path / page).write_text("edited by hand\n", encoding="utf-8")
    leftover = ASYNCAPI_DIR / "retired.json"
    (tmp_path / leftover).write_text("{}\n", encoding="utf-8")
    assert stale(files, tmp_path) == sorted([page, leftover])
    write(files, tmp_path)
    assert stale(files, tmp_path) == []
    assert not (tmp_path / leftover).exists()


def test_the_command_collects_what_the_services_print(entries: dict[str, ServiceEntry]) -> None:
    """`complaints catalogue` runs `python -m <service>.docs`: the same documents, read back."""
    [collected] = describe_all(["sla"])
    assert collected == entries["sla"]
