"""The values of a pack's notifier section: typed, or a PolicyError that says where."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

CHANNELS = frozenset({"sms", "email", "webhook", "wecom", "dingtalk"})

E = TypeVar("E", bound=StrEnum)


class PolicyError(ValueError):
    """The notifier section of a pack is invalid; the service refuses to start."""


def mapping(value: Any, where: str) -> Mapping[str, Any]:
    """`value` if it is a mapping, else a PolicyError naming `where`."""
    if not isinstance(value, Mapping):
        raise PolicyError(f"{where}: expected a mapping")
    return value


def listed(value: Any, where: str) -> list[Any]:
    """`value` if it is a list (absent: empty), else a PolicyError."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise PolicyError(f"{where}: expected a list")
    return value


def positive(value: Any, where: str) -> float:
    """A positive number below a billion, else a PolicyError."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e9:
        raise PolicyError(f"{where}: expected a positive number, got {str(value)[:40]!r}")
    return float(value)


def enum_of(enum: type[E], value: Any, where: str) -> E:
    """`value` as a member of `enum`, else a PolicyError naming the enum."""
    try:
        return enum(str(value))
    except ValueError as exc:
        raise PolicyError(f"{where}: unknown {enum.__name__} {value!r}") from exc


def enums(enum: type[E], values: Any, where: str) -> frozenset[E]:
    """Every value of a list (absent: none) as members of `enum`."""
    return frozenset(enum_of(enum, v, where) for v in values or [])


def check_channel(name: Any) -> str:
    """`name` if it is a channel the notifier has, else a PolicyError."""
    if name not in CHANNELS:
        raise PolicyError(f"unknown channel {name!r}; known: {sorted(CHANNELS)}")
    return str(name)


def zone(name: Any) -> ZoneInfo:
    """A time zone by IANA name, else a PolicyError."""
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise PolicyError(f"unknown time zone {name!r} (is tzdata installed?)") from exc


def clock_time(text: Any) -> time:
    """`HH:MM` as a time of day, else a PolicyError."""
    try:
        return time.fromisoformat(str(text).strip())
    except ValueError as exc:
        raise PolicyError(f"not a time of day (HH:MM): {text!r}") from exc
