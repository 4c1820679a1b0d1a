"""The characters a regular expression's match can start with, to skip patterns that cannot match.

Most of a pack's patterns start with one of a few Chinese characters or digits; a message that
contains none of them cannot match, and one set test answers that for a whole rule instead of a
regex search per pattern. Anything the reader does not understand (a wildcard, a negated class
at the start, a pattern that can match the empty string) gives `None`: always try the pattern.
"""

from __future__ import annotations

import re
from re import _constants as c  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

_ZERO_WIDTH = {c.AT, c.ASSERT, c.ASSERT_NOT}
_REPEATS = {c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", c.MAX_REPEAT)}
_MAX_CLASS = 256
"""A character class wider than this (a range like 一-龥) is treated as 'anything'."""


class _UnknownError(Exception):
    """The pattern uses something this reader does not follow."""


def first_chars(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Every character a match of `pattern` can start with, or None when that is not known."""
    try:
        chars, nullable = _sequence(list(sre_parse.parse(pattern.pattern, pattern.flags)))
    except (_UnknownError, re.error, RecursionError):
        return None
    if nullable:
        return None
    if pattern.flags & re.IGNORECASE:
        chars = {variant for char in chars for variant in (char, char.lower(), char.upper())}
    return frozenset(chars)


def _sequence(items: list[tuple[Any, Any]]) -> tuple[set[str], bool]:
    """First characters of a sequence, and whether the whole sequence can match nothing."""
    found: set[str] = set()
    for op, arg in items:
        if op in _ZERO_WIDTH:
            continue
        chars, nullable = _item(op, arg)
        found |= chars
        if not nullable:
            return found, False
    return found, True


def _item(op: Any, arg: Any) -> tuple[set[str], bool]:
    """First characters of one parsed element, and whether it can match nothing."""
    if op == c.LITERAL:
        return {chr(arg)}, False
    if op == c.IN:
        return _char_class(arg), False
    if op == c.SUBPATTERN:
        return _sequence(list(arg[-1]))
    if op == c.BRANCH:
        found: set[str] = set()
        nullable = False
        for branch in arg[1]:
            chars, empty = _sequence(list(branch))
            found |= chars
            nullable = nullable or empty
        return found, nullable
    if op in _REPEATS:
        low, _, body = arg
        chars, nullable = _sequence(list(body))
        return chars, nullable or low == 0
    raise _UnknownError(op)


def _char_class(items: list[tuple[Any, Any]]) -> set[str]:
    """The members of a `[...]` class; negations, categories and wide ranges are unknown."""
    found: set[str] = set()
    for op, arg in items:
        if op == c.LITERAL:
            found.add(chr(arg))
        elif op == c.RANGE and arg[1] - arg[0] <= _MAX_CLASS:
            found.update(chr(code) for code in range(arg[0], arg[1] + 1))
        else:
            raise _UnknownError(op)
        if len(found) > _MAX_CLASS:
            raise _UnknownError("class too wide")
    return found
