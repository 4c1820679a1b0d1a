"""Near-duplicate fingerprints: a 64-bit simhash over character shingles of the text."""

from __future__ import annotations

import hashlib
from collections import Counter

import numpy as np

_BITS = 64
_SHINGLE = 2
_MAX_DISTANCE = 12
_PREFIX = "sh1:"


def _tokens(text: str) -> list[str]:
    # Masked digits and punctuation differ between retellings of the same complaint.
    letters = "".join(char for char in text.lower() if char.isalpha())
    if len(letters) <= _SHINGLE:
        return [letters] if letters else []
    return [letters[index : index + _SHINGLE] for index in range(len(letters) - _SHINGLE + 1)]


# A digest's bytes come big-endian and `unpackbits(..., bitorder="little")` lists each byte's
# bits from its lowest: column 8 * j + k is bit 8 * (7 - j) + k of the 64-bit value.
_BIT_OF_COLUMN = [1 << (8 * (7 - column // 8) + column % 8) for column in range(_BITS)]


def fingerprint(text: str) -> str:
    """A simhash of the normalised (simplified) text, as 'sh1:' + 16 hex digits.

    Bit b is set where the shingles whose hash has bit b outweigh those without it: the 64
    per-bit sums are one matrix product of the shingles' counts and their hashes' bits (the
    service's hottest loop per complaint, ~2x cheaper than per-shingle Python arithmetic).
    """
    counts = Counter(_tokens(text))
    if not counts:
        return f"{_PREFIX}{0:016x}"
    digests = b"".join(
        [
            hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=8).digest()
            for token in counts
        ]
    )
    bits = np.unpackbits(
        np.frombuffer(digests, dtype=np.uint8).reshape(-1, 8), axis=1, bitorder="little"
    )
    weights = np.fromiter(counts.values(), dtype=np.int64, count=len(counts))
    # weight of bit b = (count with the bit) - (count without it) = 2 * with - total
    heavy = np.flatnonzero(2 * (weights @ bits) > int(weights.sum()))
    number = sum(_BIT_OF_COLUMN[column] for column in heavy.tolist())
    return f"{_PREFIX}{number:016x}"


def _value(print_: str) -> int | None:
    if not print_.startswith(_PREFIX):
        return None
    try:
        return int(print_[len(_PREFIX) :], 16)
    except ValueError:
        return None


def is_near_duplicate(a: str, b: str) -> bool:
    """Whether two fingerprints are close enough to call the texts the same complaint."""
    first, second = _value(a), _value(b)
    if first is None or second is None:
        return False
    return (first ^ second).bit_count() <= _MAX_DISTANCE
