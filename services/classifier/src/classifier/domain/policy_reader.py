"""Typed access to a parsed pack file that reports problems as `file: path: problem`."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from classifier.domain.policy import PolicyError
from servicekit.packfile import read_yaml

E = TypeVar("E", bound=StrEnum)
MAX_NUMBER = 1e9
"""Larger than any window, threshold or count a pack needs (and than any date can take)."""


class PackReader:
    """Typed access to parsed YAML that reports problems as `file: path: problem`."""

    def __init__(self, file: Path) -> None:
        self.file = file

    def fail(self, where: str, problem: str) -> PolicyError:
        """An error naming the file, the place inside it and the problem."""
        return PolicyError(f"{self.file}: {where}: {problem}")

    def load(self) -> dict[str, Any]:
        """The file's top-level mapping."""
        if not self.file.is_file():
            raise PolicyError(f"{self.file}: file not found")
        data = read_yaml(self.file, PolicyError)
        return self.mapping(data, "(top level)")

    def mapping(self, value: object, where: str) -> dict[str, Any]:
        """`value` as a mapping with string keys."""
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise self.fail(where, f"expected a mapping, got {type(value).__name__}")
        return value

    def text(self, data: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
        """A required (or defaulted) string field."""
        value = data.get(key, default)
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{where}.{key}", "expected a non-empty string")
        return value

    def strings(self, data: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
        """An optional list of strings."""
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
            raise self.fail(f"{where}.{key}", "expected a list of strings")
        return tuple(str(v) for v in value)

    def number(self, data: dict[str, Any], key: str, where: str, default: float) -> float:
        """An optional positive number."""
        value = data.get(key, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 < value < MAX_NUMBER  # also refuses NaN and infinity
        ):
            raise self.fail(f"{where}.{key}", f"expected a positive number, got {value!r}")
        return float(value)

    def member(self, enum: type[E], value: object, where: str) -> E:
        """`value` as a member of `enum`, listing the allowed values otherwise."""
        try:
            return enum(str(value))
        except ValueError:
            allowed = ", ".join(m.value for m in enum)
            raise self.fail(where, f"unknown value {value!r} (allowed: {allowed})") from None
