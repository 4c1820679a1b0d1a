"""Staff API keys: parsed with errors that never show a key, found by constant-time comparison."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter

from servicekit.staff_keys import holder_of, parse_keys

NAMES: TypeAdapter[dict[str, str]] = TypeAdapter(dict[str, str])
KEY = "k" * 16


def test_keys_parse_and_their_holders_are_found() -> None:
    keys = parse_keys(f'{{"{KEY}": "ops-1"}}', NAMES, "X_API_KEYS")
    assert keys == {KEY: "ops-1"}
    assert holder_of(keys, KEY) == "ops-1"
    assert holder_of(keys, KEY[:-1] + "x") is None
    assert holder_of(keys, None) is None
    assert parse_keys("  ", NAMES, "X_API_KEYS") == {}


@pytest.mark.parametrize("raw", ['{"short-secret": "ops-1"}', '{"short-secret": 5}', "[1"])
def test_a_bad_setting_is_named_and_no_key_is_shown(raw: str) -> None:
    with pytest.raises(ValueError, match="X_API_KEYS") as caught:
        parse_keys(raw, NAMES, "X_API_KEYS")
    assert "short-secret" not in str(caught.value)
