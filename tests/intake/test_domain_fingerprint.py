"""The fingerprint's per-bit sums (one matrix product) give exactly the textbook simhash."""

from __future__ import annotations

import hashlib
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from intake.domain.fingerprint import _tokens, fingerprint


def textbook(text: str) -> str:
    """Simhash as defined: per bit, + count for shingles whose hash has it, - count otherwise."""
    weights = [0] * 64
    for token, count in Counter(_tokens(text)).items():
        digest = hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=8).digest()
        value = int.from_bytes(digest, "big")
        for bit in range(64):
            weights[bit] += count if value >> bit & 1 else -count
    return f"sh1:{sum(1 << bit for bit in range(64) if weights[bit] > 0):016x}"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("宽带断网话费多扣了三十元abcAB1 ，。"), max_size=400))
def test_the_fingerprint_is_the_textbook_simhash(text: str) -> None:
    assert fingerprint(text) == textbook(text)


def test_long_repetitive_texts_do_not_overflow_a_lane() -> None:
    for text in ("断" * 20_000, "断网" * 10_000, "ab" * 10_000 + "宽带" * 5_000):
        assert fingerprint(text) == textbook(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_fingerprints_as_the_textbook_says(text: str) -> None:
    assert fingerprint(text) == textbook(text)
