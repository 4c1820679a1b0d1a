"""Text normalisation: control characters, full-width forms, conversion artefacts, whitespace."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

from opencc import OpenCC

from intake.domain.simplified import Simplifier, simplifier_for

# Full-width forms that stay: they are ordinary Chinese punctuation, and turning them into ASCII
# would change how the sentence reads (，。 are not the same as ,.).
_KEEP_FULL_WIDTH = frozenset("！（），：；？")
_FULL_WIDTH = {
    code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F) if chr(code) not in _KEEP_FULL_WIDTH
}
_FULL_WIDTH[0x3000] = 0x20  # ideographic space

_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
_PINYIN = rf"[a-zü{_TONED}]*[{_TONED}][a-zü{_TONED}]*"
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Scraped Traditional text carries pinyin readings after characters, e.g. 服務(wù) or 經(jīng)理: a
# CJK character followed by one or more parenthesised toned syllables.
_ARTEFACT = re.compile(rf"(?<=[{_CJK}])(?:[(（]{_PINYIN}[)）])+")
# Clock times keep an ASCII colon (14：00 → 14:00); elsewhere ： is Chinese punctuation.
_CLOCK_COLON = re.compile(r"(?<=\d)：(?=\d)")
_HSPACE = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{2,}")
_LINE_EDGES = re.compile(r" *\n *")
_MAX_ROUNDS = 4


def _is_dropped(char: str) -> bool:
    category = unicodedata.category(char)
    # Cc = control, Cf = format (zero-width, bidi overrides, BOM), Cs = lone surrogates,
    # Zl/Zp = line and paragraph separators (turned into newlines first).
    return category in {"Cc", "Cf", "Cs"} and char not in "\n\t"


def _clean_controls(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n").replace("\x85", "\n")
    # Every Cc, Cf and Cs character is unprintable: a text printable but for its line breaks
    # and tabs has none to drop (most do; the check runs in C, the loop below per character).
    if text.replace("\n", "").replace("\t", "").isprintable():
        return text
    return "".join(char for char in text if not _is_dropped(char))


def _one_round(text: str) -> str:
    text = unicodedata.normalize("NFC", _clean_controls(text))
    text = text.translate(_FULL_WIDTH)
    text = _ARTEFACT.sub("", text)
    text = _CLOCK_COLON.sub(":", text)
    text = _HSPACE.sub(" ", text)
    text = _LINE_EDGES.sub("\n", text)
    text = _BLANK_LINES.sub("\n", text)
    return text.strip()


def normalise_text(text: str) -> str:
    """Normalise complaint text; idempotent, never raises on any string."""
    # Each step can expose input for an earlier one (NFC composing after a control character
    # goes), so run rounds until nothing changes.
    for _ in range(_MAX_ROUNDS):
        cleaned = _one_round(text)
        if cleaned == text:
            break
        text = cleaned
    return text


@lru_cache(maxsize=1)
def _converter() -> OpenCC:
    return OpenCC("t2s")


@lru_cache(maxsize=1)
def _changing() -> frozenset[str]:
    """Every character a t2s replacement can change: a text with none of them converts to
    itself (a replacement whose key has none of them writes its key back unchanged)."""
    converter = _converter()
    converter.convert("")  # loads the dictionaries
    chars: set[str] = set()
    # The library keeps its loaded tables there (tests check this filter against it).
    pending: list[Any] = list(converter._dict_chain_data)
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(item)
            continue
        _, _, table = item
        for key, value in table.items():
            if len(key) != len(value):
                chars.update(key)
            else:
                chars.update(k for k, v in zip(key, value, strict=True) if k != v)
    return frozenset(chars)


@lru_cache(maxsize=1)
def _simplifier() -> Simplifier | None:
    converter = _converter()
    converter.convert("")  # loads the dictionaries
    return simplifier_for(converter._dict_chain_data, converter.split_chars_re)


def to_simplified(text: str) -> str:
    """Simplified-Chinese copy of `text` for matching (Traditional characters converted):
    OpenCC's t2s output. Most texts are Simplified already: those skip conversion; the others
    go through `Simplifier`, the converter's result without its search (ADR 0045)."""
    if _changing().isdisjoint(text):
        return text
    simplifier = _simplifier()
    if simplifier is not None:
        return simplifier.convert(text)
    converted: str = _converter().convert(text)
    return converted


def has_no_text(text: str) -> bool:
    """Whether normalised text has nothing left that a person could read."""
    return not any(char.isalnum() for char in text)
