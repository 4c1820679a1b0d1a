"""Times in consumed events must lie where the pipeline can compute with them.

An event from another service always carries times within days of now; one dated in year 1 or
9999 is hostile or broken, and the date arithmetic done on it (business calendars, windows,
local display) would overflow. Consumers reject such events with a reason instead.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from enum import Enum
from typing import Annotated, Literal, get_args, get_origin

from pydantic import BaseModel

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
"""Every time in a consumed event lies in [EARLIEST, LATEST)."""


def implausible_time(model: BaseModel) -> str | None:
    """The field path of a time in `model` (at any depth) outside [EARLIEST, LATEST), if any.

    Every consumed message is checked, so the common answer (none) is found without building a
    path per field; the path is worked out only for an event that has such a time.
    """
    return _path_of_implausible(model) if _has_implausible(model) else None


@functools.cache
def _time_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields of a model class whose annotation can hold a time or another model."""
    return tuple(
        name for name, info in model.model_fields.items() if _may_hold_time(info.annotation)
    )


_PLAIN = (str, int, float, bool, bytes, type(None), Enum)
"""Field types that never hold a time; anything else (datetime, a model, `AwareDatetime`,
`Any`, a type we do not know) is looked into."""


def _may_hold_time(annotation: object) -> bool:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return False
    if origin is Annotated:
        return _may_hold_time(args[0])
    if args:  # unions, list[...], tuple[...], dict[...]
        return any(_may_hold_time(arg) for arg in args)
    return not (isinstance(annotation, type) and issubclass(annotation, _PLAIN))


def _has_implausible(model: BaseModel) -> bool:
    stack: list[object] = [model]
    while stack:
        node = stack.pop()
        if isinstance(node, datetime):
            if not EARLIEST <= node < LATEST:
                return True
        elif isinstance(node, BaseModel):
            values = node.__dict__
            stack.extend(values[name] for name in _time_fields(type(node)))
        elif isinstance(node, list | tuple):
            stack.extend(item for item in node if isinstance(item, BaseModel | datetime))
    return False


def _path_of_implausible(model: BaseModel) -> str | None:
    stack: list[tuple[str, object]] = [("", model)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, datetime):
            if not EARLIEST <= node < LATEST:
                return path
        elif isinstance(node, BaseModel):
            stack.extend(
                (f"{path}.{name}" if path else name, getattr(node, name))
                for name in type(node).model_fields
            )
        elif isinstance(node, list | tuple):
            stack.extend(
                (f"{path}[{index}]", item)
                for index, item in enumerate(node)
                if isinstance(item, BaseModel | datetime)
            )
    return None


def out_of_range(path: str) -> str:
    """The rejection detail for a time at `path` outside the range."""
    return f"{path} lies outside {EARLIEST:%Y-%m-%d} .. {LATEST:%Y-%m-%d}"
