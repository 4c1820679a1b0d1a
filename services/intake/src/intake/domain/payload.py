"""Raw bytes to a parsed JSON object, with the structural checks done before any reading."""

from __future__ import annotations

import json
import math
from typing import Any

from intake.domain.results import IntakeLimits, RejectError, RejectReason

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        # MongoDB reads $-keys as operators and dotted keys as paths; NUL ends a BSON key.
        if key.startswith("$") or "." in key or "\x00" in key:
            raise RejectError(RejectReason.OPERATOR_KEYS, "a key starts with '$' or holds '.'")
        if key in seen:
            raise RejectError(RejectReason.WRONG_SHAPE, "an object repeats a key")
        seen[key] = value
    return seen


def _check_tree(root: object, *, max_depth: int) -> None:
    stack: list[tuple[object, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: list[object] = [*node.keys(), *node.values()]
        elif isinstance(node, list):
            children = list(node)
        else:
            if isinstance(node, str) and _has_surrogate(node):
                raise RejectError(RejectReason.INVALID_UTF8, "a string holds a lone surrogate")
            # The original is stored as BSON, whose integers are 64-bit.
            if isinstance(node, int) and not _INT64_MIN <= node <= _INT64_MAX:
                raise RejectError(RejectReason.WRONG_SHAPE, "an integer exceeds 64 bits")
            # 1e999 parses as infinity: as much "not JSON" as the NaN and Infinity literals.
            if isinstance(node, float) and not math.isfinite(node):
                raise RejectError(RejectReason.NOT_JSON, "a number is out of range")
            continue
        if depth > max_depth:
            raise RejectError(RejectReason.TOO_DEEP, f"nesting deeper than {max_depth} levels")
        stack.extend((child, depth + 1) for child in children)


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def decode_payload(payload: bytes, *, limits: IntakeLimits) -> dict[str, Any]:
    """The parsed JSON object, or a `RejectError` with the first reason that applies."""
    if len(payload) > limits.max_bytes:
        raise RejectError(RejectReason.OVERSIZE, f"message larger than {limits.max_bytes} bytes")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise RejectError(RejectReason.INVALID_UTF8, "message is not valid UTF-8") from None
    text = text.removeprefix("\ufeff")
    try:
        root = json.loads(text, object_pairs_hook=_pairs, parse_constant=_reject_constant)
    except RecursionError:
        raise RejectError(RejectReason.TOO_DEEP, "nesting too deep to parse") from None
    except ValueError:
        raise RejectError(RejectReason.NOT_JSON, "message is not a JSON document") from None
    _check_tree(root, max_depth=limits.max_depth)
    if not isinstance(root, dict):
        raise RejectError(RejectReason.WRONG_SHAPE, "message must be a JSON object")
    return root
