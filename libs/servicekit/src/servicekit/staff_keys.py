"""Staff API keys: read from a secret JSON setting, and found in constant time per request."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import TypeVar

from pydantic import TypeAdapter, ValidationError

T = TypeVar("T")

MIN_KEY_LENGTH = 16


def parse_keys(raw: str, adapter: TypeAdapter[dict[str, T]], setting: str) -> dict[str, T]:
    """API key → staff member from JSON; errors name the setting, never a key (keys are secrets)."""
    if not raw.strip():
        return {}
    try:
        keys = adapter.validate_json(raw)
    except ValidationError as exc:
        kinds = sorted({str(e["type"]) for e in exc.errors()})
        raise ValueError(f"{setting} is not valid: {', '.join(kinds)}") from None
    if any(len(key) < MIN_KEY_LENGTH for key in keys):
        raise ValueError(f"{setting}: every key needs at least {MIN_KEY_LENGTH} characters")
    return keys


def holder_of(keys: Mapping[str, T], presented: str | None) -> T | None:
    """Who holds the presented key (None if nobody); each known key compared in constant time."""
    found = None
    for known, who in keys.items():
        if presented and hmac.compare_digest(presented.encode(), known.encode()):
            found = who
    return found
