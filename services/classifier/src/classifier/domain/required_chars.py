"""Characters a regular expression's every match must contain, to skip patterns that cannot match.

A pack's patterns are alternations of words glued by short gaps: 「{done}{w}{0,10}向…工信部」 can
only match a text that holds one of 已/早/刚 **and** one of 向/到/给/… **and** one of 工/通/…
Each such set is a *requirement*: a match contains at least one character of it. A text's
character set answers every requirement of every pattern in one scan (`prefilter.CharBits`), so
most patterns are never searched. Anything the reader does not follow (a wildcard, a negated or
wide class, a back-reference) adds no requirement; a pattern with none is always searched.
"""

from __future__ import annotations

import re
from re import _constants as c  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

Requirement = frozenset[str]
_REPEATS = {c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", c.MAX_REPEAT)}
_MAX_CLASS = 256
"""A character class wider than this (a range like 一-龥) says too little to be worth a bit."""
MAX_REQUIREMENTS = 6
"""Per pattern, the smallest few are kept: each is a necessary condition, the rest add little."""


def required_chars(pattern: re.Pattern[str]) -> tuple[Requirement, ...]:
    """The requirements of `pattern`, smallest first (a match holds a character of each)."""
    try:
        found = _sequence(list(sre_parse.parse(pattern.pattern, pattern.flags)))
    except (re.error, RecursionError):
        return ()
    if pattern.flags & re.IGNORECASE:
        found = [
            {v for char in chars for v in (char, char.lower(), char.upper())} for chars in found
        ]
    unique = dict.fromkeys(frozenset(chars) for chars in found if chars)
    return tuple(sorted(unique, key=lambda chars: (len(chars), sorted(chars))))[:MAX_REQUIREMENTS]


class _UnknownError(Exception):
    """The pattern uses something this reader does not follow."""


def _sequence(items: list[tuple[Any, Any]]) -> list[set[str]]:
    """The requirements of a sequence: those of each element it cannot do without."""
    found: list[set[str]] = []
    for op, arg in items:
        found += _item(op, arg)
    return found


def _item(op: Any, arg: Any) -> list[set[str]]:
    """The requirements of one parsed element (none when it may match nothing)."""
    found: list[set[str]] = []
    if op == c.LITERAL:
        found = [{chr(arg)}]
    elif op == c.SUBPATTERN:
        found = _sequence(list(arg[-1]))
    elif op in _REPEATS and arg[0] >= 1:
        found = _sequence(list(arg[2]))
    elif op in {c.IN, c.BRANCH}:
        try:
            found = [_char_class(arg) if op == c.IN else _branch(arg[1])]
        except _UnknownError:
            found = []
    # Nothing from zero-width assertions, optional repeats, wildcards, back-references …
    return found


def _branch(branches: list[Any]) -> set[str]:
    """One requirement of an alternation: each branch's smallest requirement, pooled."""
    pooled: set[str] = set()
    for branch in branches:
        own = _sequence(list(branch))
        if not own:
            raise _UnknownError("a branch needs nothing known")
        pooled |= min(own, key=len)
    if len(pooled) > _MAX_CLASS:
        raise _UnknownError("too many characters")
    return pooled


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


class CharBits:
    """Requirements as bits of one integer, and for each character the bits it meets."""

    def __init__(self) -> None:
        """An empty table; `need` fills it while rules are read, before any text is scanned."""
        self._bits: dict[Requirement, int] = {}
        self._by_char: dict[str, int] = {}

    def need(self, requirements: tuple[Requirement, ...]) -> int:
        """The bits a text must meet for a pattern with these requirements (0: none known)."""
        mask = 0
        for chars in requirements:
            bit = self._bits.get(chars)
            if bit is None:
                bit = self._bits[chars] = 1 << len(self._bits)
                for char in chars:
                    self._by_char[char] = self._by_char.get(char, 0) | bit
            mask |= bit
        return mask

    def met(self, chars: set[str] | frozenset[str]) -> int:
        """The bits a text with these characters meets: one pass over its distinct characters."""
        by_char = self._by_char
        found = 0
        for char in by_char.keys() & chars:
            found |= by_char[char]
        return found
