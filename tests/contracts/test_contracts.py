"""The contracts package: golden payloads parse, schemas are in sync, envelopes are CloudEvents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import BaseModel, TypeAdapter

import contracts
from contracts import (
    EVENTS,
    MESSAGES_FOR_TOPIC,
    ComplaintNormalized,
    LifecycleEvent,
    RawComplaintSubmitted,
    Topic,
)
from contracts.schemas import all_schemas, render, schema_name

EXAMPLES = Path(contracts.__file__).parent / "examples"
SCHEMAS = Path(__file__).resolve().parents[2] / "shared" / "schemas"
MODELS: dict[str, type[BaseModel]] = {
    schema_name(model): model for models in MESSAGES_FOR_TOPIC.values() for model in models
}


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.name)
def test_every_golden_payload_parses_into_its_model(path: Path) -> None:
    model = MODELS[path.name.removesuffix(".json")]
    parsed = model.model_validate_json(path.read_bytes())
    if isinstance(parsed, contracts.Event):
        assert parsed.type == parsed.event_type
        assert parsed.specversion == "1.0"
        assert parsed.dataschema.endswith(parsed.event_type)


def test_every_message_model_has_a_golden_payload() -> None:
    assert {p.name.removesuffix(".json") for p in EXAMPLES.glob("*.json")} == set(MODELS)


def test_committed_json_schemas_match_the_models() -> None:
    for name, schema in all_schemas().items():
        committed = SCHEMAS / f"{name}.json"
        assert committed.exists(), f"{committed} missing: run `make schemas`"
        assert committed.read_text(encoding="utf-8") == render(schema), (
            f"{committed.name} is stale: run `make schemas` and review the diff"
        )
    assert {p.stem for p in SCHEMAS.glob("*.json")} == set(all_schemas())


def test_every_field_is_described() -> None:
    undocumented = []
    for name, schema in all_schemas().items():
        for def_name, definition in {"root": schema, **schema.get("$defs", {})}.items():
            for field, spec in definition.get("properties", {}).items():
                if "description" not in spec and "$ref" not in spec and "allOf" not in spec:
                    undocumented.append(f"{name}:{def_name}.{field}")
    # Identifier types and enums describe themselves through their $ref; plain fields must not.
    assert len(undocumented) < 60, undocumented


def test_event_ids_are_deterministic_per_cause() -> None:
    payload = json.loads((EXAMPLES / "cn.complaints.normalized.v1.json").read_text("utf-8"))
    event = ComplaintNormalized.model_validate(payload)
    again = ComplaintNormalized.build(
        data=event.data,
        subject=event.subject,
        source=event.source,
        time=event.time,
        cause=event.data.complaint_id,
    )
    other = ComplaintNormalized.build(
        data=event.data,
        subject=event.subject,
        source=event.source,
        time=event.time,
        cause="something else",
    )
    assert again.id == event.id
    assert other.id != event.id
    assert event.key() == event.data.complaint_id.encode()


def test_events_are_frozen() -> None:
    event = ComplaintNormalized.model_validate_json(
        (EXAMPLES / "cn.complaints.normalized.v1.json").read_bytes()
    )
    with pytest.raises(ValueError, match="frozen"):
        event.subject = "CP20260101-AAAAAAAAAA"  # type: ignore[misc]


def test_lifecycle_topic_is_a_discriminated_union() -> None:
    adapter: TypeAdapter[object] = TypeAdapter(LifecycleEvent)
    for name in ("cn.complaints.lifecycle.action.v1", "cn.complaints.lifecycle.rejected.v1"):
        parsed = adapter.validate_json((EXAMPLES / f"{name}.json").read_bytes())
        assert type(parsed).__name__ == MODELS[name].__name__


def test_each_topic_has_its_events_and_names_are_versioned() -> None:
    for topic in Topic:
        assert topic.value.endswith(".v1")
        assert MESSAGES_FOR_TOPIC[topic], f"{topic} carries no model"
    assert {event.topic for event in EVENTS} | {Topic.RAW} == set(Topic)


def test_raw_format_keeps_unknown_fields() -> None:
    raw = RawComplaintSubmitted.model_validate_json(
        (EXAMPLES / "cn.complaints.raw.v1.json").read_bytes()
    )
    assert contracts.complaints.extra_fields(raw) == {"agent_id": "A-102"}


def test_a_bad_complaint_id_is_refused() -> None:
    payload = json.loads((EXAMPLES / "cn.complaints.normalized.v1.json").read_text("utf-8"))
    payload["data"]["complaint_id"] = "not-an-id"
    with pytest.raises(ValueError, match="complaint_id"):
        ComplaintNormalized.model_validate(payload)
