"""Text normalisation for matching: Simplified, half-width, lower case, no pinyin debris."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

import opencc

# Scraped sources leave pinyin readings after converted characters, e.g. 營業(yè)廳.
_PINYIN_DEBRIS = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]{1,7}\)")
_SPACES = re.compile(r"\s+")


@cache
def _t2s_table() -> dict[int, str]:
    """One-to-one Traditional→Simplified map built from OpenCC's dictionaries.

    Character-level conversion is ~30x faster than OpenCC's phrase segmentation and is all the
    matching needs: rules and n-grams only care that 說/説/说 end up as one character.
    """
    folder = Path(opencc.__file__).parent / "dictionary"
    variants: dict[str, str] = {}
    for name in ("TWVariantsRev.txt", "HKVariantsRev.txt"):
        variants.update(_pairs(folder / name))
    simplified = _pairs(folder / "TSCharacters.txt")
    table: dict[int, str] = {}
    for char in {*variants, *simplified}:
        standard = variants.get(char, char)
        converted = simplified.get(standard, standard)
        if converted != char:
            table[ord(char)] = converted
    # Follow chains (麼 → 么 → 幺) so that every spelling of a character meets at one form.
    for code in list(table):
        seen = {code}
        target = table[code]
        while len(target) == 1 and ord(target) in table and ord(target) not in seen:
            seen.add(ord(target))
            target = table[ord(target)]
        table[code] = target
    return {source: target for source, target in table.items() if chr(source) != target}


def _pairs(path: Path) -> dict[str, str]:
    """Single-character mappings of one OpenCC dictionary file.

    Where OpenCC lists several candidates (覆 → 覆 复), the first one that differs from the key
    wins, so 覆盖 and 覆蓋 and 复盖 all meet at one form; only consistency matters for matching.
    """
    pairs: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) != 2 or len(parts[0]) != 1:
            continue
        candidates = [c for c in parts[1].split(" ") if len(c) == 1]
        different = [c for c in candidates if c != parts[0]]
        if different:
            pairs[parts[0]] = different[0]
    return pairs


def to_simplified(text: str) -> str:
    """Convert Traditional (incl. Taiwan / Hong Kong variants) characters to Simplified."""
    return text.translate(_t2s_table())


def normalise(text: str) -> str:
    """The form every rule and the model read: NFKC, Simplified, lower case, single spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = _PINYIN_DEBRIS.sub("", text)
    text = to_simplified(text).lower()
    return _SPACES.sub(" ", text).strip()


def normalise_pattern(source: str) -> str:
    """A policy regex in the same character forms as `normalise` output (case is left alone)."""
    return to_simplified(unicodedata.normalize("NFKC", source))
