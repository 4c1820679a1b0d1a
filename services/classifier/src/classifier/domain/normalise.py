"""Text normalisation for matching: Simplified, half-width, lower case, no pinyin debris."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
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


_COMPAT_BLOCKS = ((0x2000, 0x2070), (0x3000, 0x3040), (0xFE30, 0xFE70), (0xFF00, 0xFFF0))
"""General punctuation, CJK symbols, CJK compatibility and small forms, full- and half-width
forms: where a Chinese message's compatibility characters (，！？：（ ）、ａ１ …) come from."""


@cache
def _compat_forms() -> tuple[re.Pattern[str], dict[str, str]]:
    """A class matching the compatibility characters of `_COMPAT_BLOCKS`, and each one's NFKC."""
    forms: dict[str, str] = {}
    for low, high in _COMPAT_BLOCKS:
        for code in range(low, high):
            form = unicodedata.normalize("NFKC", chr(code))
            if form != chr(code):
                forms[chr(code)] = form
    return re.compile("[" + "".join(re.escape(char) for char in forms) + "]"), forms


def nfkc(text: str) -> str:
    """`unicodedata.normalize("NFKC", text)`, cheaper for the usual Chinese message (a quarter).

    Full-width punctuation fails NFKC's quick check, and the full algorithm (decompose, reorder,
    compose, character by character) then costs more than everything else `normalise` does.
    Replacing each compatibility character by its own NFKC form leaves the text's NFKD unchanged
    (decomposition is per character, and NFKD(NFKC(c)) = NFKD(c)), so the replaced text has the
    same NFKC; when the replaced text passes the check it *is* that NFKC. Otherwise, the full
    algorithm runs. A message holds a handful of distinct such characters: one `replace` each.
    """
    if unicodedata.is_normalized("NFKC", text):
        return text
    found, forms = _compat_forms()
    replaced = text
    for char in set(found.findall(text)):
        replaced = replaced.replace(char, forms[char])
    if unicodedata.is_normalized("NFKC", replaced):
        return replaced
    return unicodedata.normalize("NFKC", text)


def to_simplified(text: str) -> str:
    """Convert Traditional (incl. Taiwan / Hong Kong variants) characters to Simplified."""
    return text.translate(_t2s_table())


def normalise(text: str) -> str:
    """The form every rule and the model read: NFKC, Simplified, lower case, single spaces."""
    text = nfkc(text)
    text = _PINYIN_DEBRIS.sub("", text)
    text = to_simplified(text).lower()
    return _SPACES.sub(" ", text).strip()


def normalise_and_quoter(original: str) -> tuple[str, Callable[[tuple[int, int]], str]]:
    """`normalise(original)` and its `quoter`, folding the text once for both (the hot path)."""
    composed = nfkc(original)
    if _PINYIN_DEBRIS.search(composed) is not None:
        text = normalise(original)
        return text, quoter(original, text)
    folded = to_simplified(composed).lower()
    text = _SPACES.sub(" ", folded).strip()
    same = len(original) == len(text) and folded == text
    return text, quoter(original, text, one_to_one=same or None)


def normalise_pattern(source: str) -> str:
    """A policy regex in the same character forms as `normalise` output (case is left alone)."""
    return to_simplified(unicodedata.normalize("NFKC", source))


def quoter(
    original: str, normalised: str, *, one_to_one: bool | None = None
) -> Callable[[tuple[int, int]], str]:
    """A function quoting a span of `normalised` (= `normalise(original)`) in the original words.

    The map from normalised to original characters is built on the first quote only (most
    messages fire no rule). Where it cannot be rebuilt (a combining sequence NFKC merges), the
    normalised span is quoted instead. `one_to_one=True` says the caller already knows each
    character maps to the one at the same place.
    """
    if one_to_one:
        return lambda span: original[span[0] : span[1]]
    offsets: list[int] | None = None

    def quote(span: tuple[int, int]) -> str:
        nonlocal offsets
        if offsets is None:
            offsets = _offsets(original, normalised)
        start, end = span
        if not offsets or not 0 <= start < end <= len(offsets):
            return normalised[start:end]
        return original[offsets[start] : offsets[end - 1] + 1]

    return quote


def _offsets(original: str, normalised: str) -> list[int]:
    """For each character of `normalised`, the index of the original character it came from."""
    if len(original) == len(normalised):
        # The common case: only one-to-one replacements (full-width → half-width, 說 → 说).
        folded = to_simplified(unicodedata.normalize("NFKC", original)).lower()
        if folded == normalised:
            return list(range(len(original)))
    chars = [
        (char, index)
        for index, source in enumerate(original)
        for char in to_simplified(unicodedata.normalize("NFKC", source)).lower()
    ]
    joined = "".join(char for char, _ in chars)
    dropped = {i for m in _PINYIN_DEBRIS.finditer(joined) for i in range(m.start(), m.end())}
    kept: list[tuple[str, int]] = []
    for position, (char, index) in enumerate(chars):
        if position in dropped:
            continue
        space = char.isspace()
        if space and kept and kept[-1][0] == " ":
            continue
        kept.append((" " if space else char, index))
    while kept and kept[0][0] == " ":
        kept.pop(0)
    while kept and kept[-1][0] == " ":
        kept.pop()
    if "".join(char for char, _ in kept) != normalised:
        return []
    return [index for _, index in kept]
