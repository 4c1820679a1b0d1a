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


_LANE = 32
"""Bits per counter when the 64 per-bit counters are added as lanes of one integer (a text has
at most tens of thousands of shingles, far below 2**32)."""
_LANE_MASK = (1 << _LANE) - 1
_SPREAD = [sum(1 << (_LANE * bit) for bit in range(8) if byte >> bit & 1) for byte in range(256)]
"""A byte's 8 bits, each moved to the lowest bit of its own lane."""


def fingerprint(text: str) -> str:
    """A simhash of the normalised (simplified) text, as 'sh1:' + 16 hex digits.

    Bit b is set where the shingles whose hash has bit b outweigh those without it. The 64
    counters are kept as 32-bit lanes of one integer, so each shingle costs 8 table look-ups
    and one addition instead of 64 (the service's hottest loop per complaint).
    """
    lanes = total = 0
    for token, count in Counter(_tokens(text)).items():
        digest = hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=8).digest()
        value = int.from_bytes(digest, "big")
        spread = 0
        for index in range(8):
            spread |= _SPREAD[value >> (8 * index) & 0xFF] << (_LANE * 8 * index)
        lanes += count * spread
        total += count
    number = 0
    for bit in range(_BITS):
        # weight = (count with the bit) - (count without it) = 2 * with - total
        if 2 * (lanes >> (_LANE * bit) & _LANE_MASK) > total:
            number |= 1 << bit
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
