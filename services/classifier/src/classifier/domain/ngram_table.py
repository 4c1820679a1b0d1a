"""A model's uni- and bigram vocabulary as dense arrays: a text's features in a few array lookups.

Looking a hundred fresh n-gram strings up in a 15,000-entry dict hashes each string and touches
the dict and its key objects all over memory; on a busy machine those cache misses were most of
the model's time. Here every character of the vocabulary gets a rank (unknown characters share
the last one), a text becomes an array of ranks through one table indexed by code point, and its
unigram and bigram feature indices are two gathers: `unigram[rank]` and `bigram[r1 * R + r2]`.
Vocabularies past bigrams, or with so many characters that R² would not fit in memory, fall back
to the dict.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")
IntArray = npt.NDArray[np.int64]
MAX_CELLS = 1 << 24
"""Largest bigram table (R² cells, 2 bytes each below 32,768 features): 32 MiB at most."""


def folded(text: str) -> str:
    """What n-grams are cut from: digit runs collapse to 0 (amounts generalise), no spaces."""
    return _SPACE.sub("", _DIGITS.sub("0", text))


class NgramTable:
    """The n-grams of a vocabulary (lengths `low`…`high`, no spaces) and their feature indices."""

    def __init__(self, vocabulary: Mapping[str, int], *, low: int, high: int) -> None:
        """Build the rank and feature tables once per model (or keep the dict, see above)."""
        self._low, self._high = max(1, low), high
        self._vocabulary = vocabulary
        grams = {
            gram: index
            for gram, index in vocabulary.items()
            if self._low <= len(gram) <= high and not any(c.isspace() for c in gram)
        }
        chars = sorted({char for gram in grams for char in gram})
        self._size = len(chars) + 1  # R: one rank per character, the last for any other
        self._dense = high == 1 or (high == 2 and self._size**2 <= MAX_CELLS)
        if not self._dense:
            return
        dtype = np.int16 if len(vocabulary) < np.iinfo(np.int16).max else np.int32
        self._cap = max((ord(char) for char in chars), default=0) + 1
        self._rank = np.full(self._cap + 1, self._size - 1, dtype=np.int32)
        for rank, char in enumerate(chars):
            self._rank[ord(char)] = rank
        self._unigram = np.full(self._size, -1, dtype=dtype)
        self._bigram = np.full(self._size**2 if high == 2 else 0, -1, dtype=dtype)
        for gram, index in grams.items():
            ranks = [int(self._rank[ord(char)]) for char in gram]
            if len(ranks) == 1:
                self._unigram[ranks[0]] = index
            else:
                self._bigram[ranks[0] * self._size + ranks[1]] = index

    def indices(self, text: str) -> list[int]:
        """Feature indices of the known n-grams of `folded(text)`: all the unigrams in text
        order, then the bigrams (the order `char_ngrams` gives), unknown ones left out.
        """
        flat = folded(text)
        if not self._dense:
            return self._by_dict(flat)
        points = np.frombuffer(flat.encode("utf-32-le"), dtype=np.uint32)
        ranks = self._rank[np.minimum(points, self._cap)]
        parts: list[npt.NDArray[Any]] = []
        if self._low == 1:
            parts.append(self._unigram[ranks])
        if self._high == 2:
            parts.append(self._bigram[ranks[:-1] * self._size + ranks[1:]])
        found = parts[0] if len(parts) == 1 else np.concatenate(parts)
        known: list[int] = found[found >= 0].tolist()
        return known

    def batch_indices(self, texts: Sequence[str]) -> tuple[IntArray, IntArray]:
        """Known feature indices of every text's n-grams and the text each belongs to: all the
        unigrams of the batch, then all the bigrams, each in text order (a stable sort by text
        then gives `indices` of each text). Texts are joined by a character of unknown rank,
        so no known n-gram spans two texts.
        """
        flats = [folded(text) for text in texts]
        if not self._dense:
            each = [self._by_dict(flat) for flat in flats]
            text_of = np.repeat(np.arange(len(flats)), [len(ids) for ids in each])
            return np.fromiter((i for ids in each for i in ids), dtype=np.int64), text_of
        joined = "\x00".join(flats) + "\x00"
        points = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
        ranks = self._rank[np.minimum(points, self._cap)]
        owner = np.repeat(np.arange(len(flats)), [len(flat) + 1 for flat in flats])
        parts: list[npt.NDArray[Any]] = []
        owners: list[npt.NDArray[Any]] = []
        if self._low == 1:
            parts.append(self._unigram[ranks])
            owners.append(owner)
        if self._high == 2:
            parts.append(self._bigram[ranks[:-1] * self._size + ranks[1:]])
            owners.append(owner[:-1])
        found = np.concatenate(parts).astype(np.int64)
        known = found >= 0
        return found[known], np.concatenate(owners)[known]

    def _by_dict(self, flat: str) -> list[int]:
        """The same, by slicing n-grams and asking the vocabulary."""
        found: list[int] = []
        for n in range(self._low, self._high + 1):
            for start in range(len(flat) - n + 1):
                index = self._vocabulary.get(flat[start : start + n])
                if index is not None:
                    found.append(index)
        return found
