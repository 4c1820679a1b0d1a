"""JSON Schema export of every message model, for downstream teams and the topic catalogue."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from contracts.registry import MESSAGES_FOR_TOPIC


def schema_name(model: type[BaseModel]) -> str:
    """File stem of a model's schema: its CloudEvents type, or the raw format's name."""
    event_type = getattr(model, "event_type", None)
    return str(event_type) if event_type else "cn.complaints.raw.v1"


def all_schemas() -> dict[str, dict[str, Any]]:
    """Schema per message model, keyed by `schema_name`."""
    schemas: dict[str, dict[str, Any]] = {}
    for topic, models in MESSAGES_FOR_TOPIC.items():
        for model in models:
            schema = model.model_json_schema(mode="serialization")
            schema["$id"] = f"urn:complaints:schema:{schema_name(model)}"
            schema["x-topic"] = topic.value
            schemas[schema_name(model)] = schema
    return schemas


def render(schema: dict[str, Any]) -> str:
    """Stable text form, so the committed files diff cleanly."""
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def export(directory: Path) -> list[Path]:
    """Write one `<type>.json` per model into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in all_schemas().items():
        path = directory / f"{name}.json"
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("shared/schemas")
    for written_path in export(target):
        sys.stdout.write(f"{written_path}\n")
