"""Near-duplicate fingerprints: a 64-bit simhash over character shingles of the text."""

from __future__ import annotations

import hashlib
from collections import Counter

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


def fingerprint(text: str) -> str:
    """A simhash of the normalised (simplified) text, as 'sh1:' + 16 hex digits."""
    weights = [0] * _BITS
    for token, count in Counter(_tokens(text)).items():
        digest = hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=8).digest()
        value = int.from_bytes(digest, "big")
        for bit in range(_BITS):
            weights[bit] += count if value >> bit & 1 else -count
    number = sum(1 << bit for bit in range(_BITS) if weights[bit] > 0)
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
