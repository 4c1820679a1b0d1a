"""Scopes that void a rule's match: negation, hypotheticals, intent and quotation.

A pattern finds words (已经投诉到12315, 起诉, 上了电视); whether they describe this case depends
on the words around them: 「我不会去起诉」 is no lawsuit threat, 「如果再不退钱我就去12315」 has
not gone there yet, 「电视上播了你们的广告」 is an advert the customer quotes. A pack names each
kind of cue with a regex and how far back it reaches; a rule lists the scopes that void its
matches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

# Normalised text: full-width punctuation is ASCII after NFKC, 。 stays as it is.
_CLAUSE_START = re.compile(r"[,;:。!?\n ()\[\]【】「」“”\"、]")
_SENTENCE_START = re.compile(r"[。!?\n]")
_LOOKBACK = {"clause": 80, "sentence": 240}
"""How far back a scope looks at most: clauses and sentences are shorter in any real message,
and a bound keeps a 20,000-character text with no punctuation linear."""


class Reach(StrEnum):
    """How far before a match a cue counts."""

    CLAUSE = "clause"
    """From the start of the match's clause (after the last comma, colon, stop …)."""
    SENTENCE = "sentence"
    """From the start of the match's sentence (after the last full stop, ! or ?)."""


@dataclass(frozen=True)
class Scope:
    """A named cue (e.g. negation) and how far back from a match it reaches."""

    name: str
    cues: re.Pattern[str]
    reach: Reach
    after: int = 0
    """Characters after the match that also count (「起诉？不会的」 is rare; most packs use 0)."""


def _start(text: str, position: int, boundary: re.Pattern[str], lookback: int) -> int:
    """Index just after the last boundary character before `position` (at most `lookback` back)."""
    start = position
    floor = max(0, position - lookback)
    while start > floor and not boundary.match(text, start - 1):
        start -= 1
    return start


def voided_by(text: str, start: int, end: int, scopes: tuple[Scope, ...]) -> Scope | None:
    """The first scope with a cue in the match's window, or None when the match stands."""
    for scope in scopes:
        boundary = _CLAUSE_START if scope.reach is Reach.CLAUSE else _SENTENCE_START
        begin = _start(text, start, boundary, _LOOKBACK[scope.reach.value])
        stop = end
        if scope.after:
            limit = min(len(text), end + scope.after)
            while stop < limit and not boundary.match(text, stop):
                stop += 1
        if scope.cues.search(text, begin, stop):
            return scope
    return None
