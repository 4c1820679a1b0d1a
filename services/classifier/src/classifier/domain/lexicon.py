"""Finding a model's taxonomy keywords in a message without trying every keyword."""

from __future__ import annotations

from collections.abc import Mapping

Lexicon = Mapping[str, tuple[str, ...]]
"""Category code → normalised keywords."""


def lexicon_hits(lexicon: Lexicon, text: str) -> dict[str, list[str]]:
    """The keywords of each category found in normalised `text`; categories without any left out."""
    hits: dict[str, list[str]] = {}
    for code, words in lexicon.items():
        found = [word for word in words if word in text]
        if found:
            hits[code] = found
    return hits


class LexiconIndex:
    """A lexicon's keywords by first character: a message is searched only for the keywords
    whose first character it contains. `hits` answers exactly as `lexicon_hits`."""

    def __init__(self, lexicon: Lexicon) -> None:
        """Index every keyword with its place in the lexicon (category order, then word order)."""
        self._codes = list(lexicon)
        self._by_first: dict[str, list[tuple[int, int, str]]] = {}
        self._always: list[tuple[int, int, str]] = []  # an empty keyword is in every text
        for code_at, words in enumerate(lexicon.values()):
            for word_at, word in enumerate(words):
                entry = (code_at, word_at, word)
                if word:
                    self._by_first.setdefault(word[0], []).append(entry)
                else:
                    self._always.append(entry)

    def hits(self, text: str, chars: set[str] | None = None) -> dict[str, list[str]]:
        """The keywords of each category found in normalised `text`, in lexicon order.

        `chars`, when given, is `set(text)` already computed by the caller.
        """
        found = [*self._always]
        for first in self._by_first.keys() & (set(text) if chars is None else chars):
            found += [entry for entry in self._by_first[first] if entry[2] in text]
        found.sort()
        hits: dict[str, list[str]] = {}
        for code_at, _, word in found:
            hits.setdefault(self._codes[code_at], []).append(word)
        return hits
