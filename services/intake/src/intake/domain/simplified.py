"""OpenCC's t2s conversion, the same output at a fraction of its cost (ADR 0045).

The pure-Python converter (`opencc.OpenCC("t2s")`) splits a text at punctuation and spaces, then
in each piece replaces the longest phrase of its phrase table (the leftmost of equal length),
goes on in the pieces left and right of it, and finally maps every character outside a phrase
through its character table. It builds a tree of nodes and tries every substring length at
every position to do so: ~75 µs per Traditional text of the bench workload, a sixth of intake's
work per complaint.

`Simplifier` gives the same result from the same tables without the search:
- phrase keys hold no separator (checked when the tables load), so a phrase never spans two
  pieces and the whole text can be searched at once;
- the converter's choice (longest, then leftmost, then the same in what is left on either side)
  is the same set of phrases as taking every phrase occurrence in that order and keeping those
  that overlap none kept before (an occurrence the recursion skips overlaps the one chosen in
  the smallest piece containing it, which comes first in the order);
- occurrences are looked for only where a phrase's first character stands (one regex scan in C)
  and only for the lengths phrases starting with it have;
- the character table has one-character keys and first choices, so it is a `str.translate`.
Where one of these does not hold for the installed tables, `Simplifier` is not built and the
converter is used as it is. Tests compare both on generated and fixture texts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any


def _first_choice(value: str) -> str:
    return value.split(" ", maxsplit=1)[0]  # the converter's choice among several candidates


class Simplifier:
    """t2s over one phrase table and one character table, as the converter applies them."""

    def __init__(self, phrases: Mapping[str, str], characters: Mapping[str, str]) -> None:
        self._phrases = {key: _first_choice(value) for key, value in phrases.items()}
        self._characters = str.maketrans(
            {key: _first_choice(value) for key, value in characters.items()}
        )
        lengths: dict[str, set[int]] = {}
        for key in self._phrases:
            lengths.setdefault(key[0], set()).add(len(key))
        self._lengths = {first: sorted(found, reverse=True) for first, found in lengths.items()}
        self._starts = re.compile("[" + "".join(map(re.escape, sorted(lengths))) + "]")

    def convert(self, text: str) -> str:
        """The converter's output for `text`."""
        found: list[tuple[int, int]] = []  # (-length, start): the converter's order
        phrases, lengths = self._phrases, self._lengths
        size = len(text)
        for match in self._starts.finditer(text):
            start = match.start()
            found.extend(
                (-length, start)
                for length in lengths[match.group()]
                if start + length <= size and text[start : start + length] in phrases
            )
        if not found:
            return text.translate(self._characters)
        found.sort()
        taken = bytearray(len(text))
        kept: list[tuple[int, int]] = []
        for negative, start in found:
            end = start - negative
            if not any(taken[start:end]):
                taken[start:end] = b"\x01" * (end - start)
                kept.append((start, end))
        kept.sort()
        parts: list[str] = []
        done = 0
        for start, end in kept:
            parts.append(text[done:start].translate(self._characters))
            parts.append(phrases[text[start:end]])
            done = end
        parts.append(text[done:].translate(self._characters))
        return "".join(parts)


def simplifier_for(chain: Sequence[Any], separators: re.Pattern[str]) -> Simplifier | None:
    """A `Simplifier` for a loaded t2s converter's dictionary chain (`_dict_chain_data`) and
    piece separators, or None where its shortcuts would not give the converter's output."""
    if len(chain) != 1 or not isinstance(chain[0], list) or len(chain[0]) != 2:
        return None  # not one group of a phrase table then a character table
    (_, _, phrases), (_, _, characters) = chain[0]
    if any(len(key) != 1 or len(_first_choice(value)) != 1 for key, value in characters.items()):
        return None
    if any(not value or not _first_choice(value) for value in phrases.values()):
        return None  # the converter takes an empty replacement for no match
    if any(separators.search(key) for key in (*phrases, *characters)):
        return None
    return Simplifier(phrases, characters)
