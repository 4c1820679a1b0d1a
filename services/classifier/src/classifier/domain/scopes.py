"""Scopes that void a rule's match: negation, hypotheticals, intent and quotation.

A pattern finds words (已经投诉到12315, 起诉, 上了电视); whether they describe this case depends
on the words around them: 「我不会去起诉」 is no lawsuit threat, 「如果再不退钱我就去12315」 has
not gone there yet, 「电视上播了你们的广告」 is an advert the customer quotes. A pack names each
kind of cue with a regex and how far back it reaches; a rule lists the scopes that void its
matches.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

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


@lru_cache(maxsize=4)
def _boundaries(text: str) -> tuple[list[int], list[int]]:
    """Positions of clause and sentence boundaries in `text`, found once per message.

    Every rule's scope checks on a message ask about the same text; the last few are kept.
    """
    return (
        [m.start() for m in _CLAUSE_START.finditer(text)],
        [m.start() for m in _SENTENCE_START.finditer(text)],
    )


def _start(bounds: list[int], position: int, lookback: int) -> int:
    """Index just after the last boundary before `position`, but at most `lookback` back."""
    floor = max(0, position - lookback)
    index = bisect_left(bounds, position) - 1
    return bounds[index] + 1 if index >= 0 and bounds[index] >= floor else floor


def _stop(bounds: list[int], end: int, limit: int) -> int:
    """The first boundary at or after `end`, but no further than `limit`."""
    index = bisect_left(bounds, end)
    return min(bounds[index], limit) if index < len(bounds) else limit


def voided_by(text: str, start: int, end: int, scopes: tuple[Scope, ...]) -> Scope | None:
    """The first scope with a cue in the match's window, or None when the match stands."""
    clauses, sentences = _boundaries(text)
    for scope in scopes:
        bounds = clauses if scope.reach is Reach.CLAUSE else sentences
        begin = _start(bounds, start, _LOOKBACK[scope.reach.value])
        stop = _stop(bounds, end, min(len(text), end + scope.after)) if scope.after else end
        if scope.cues.search(text, begin, stop):
            return scope
    return None
