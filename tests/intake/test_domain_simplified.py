"""The Simplified copy without OpenCC's search gives OpenCC's output (ADR 0045)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opencc import OpenCC

from intake.domain import to_simplified
from intake.domain.normalisation import _simplifier
from intake.domain.simplified import Simplifier, simplifier_for

_CONVERTER = OpenCC("t2s")
_CONVERTER.convert("")  # loads the tables
_GROUP = _CONVERTER._dict_chain_data[0]
_PHRASES = sorted(_GROUP[0][2])
_CHARACTERS = sorted(_GROUP[1][2])
_ROOT = Path(__file__).resolve().parents[2]


def _simplifier_in_use() -> Simplifier:
    simplifier = _simplifier()
    assert simplifier is not None, "the installed tables must take the fast path"
    return simplifier


def test_the_installed_tables_take_the_fast_path() -> None:
    assert isinstance(_simplifier(), Simplifier)


# Phrases, their fragments (a phrase's start or end without the rest, so occurrences overlap
# and nest), single characters of the tables, separators and any Han character.
_FRAGMENT = st.tuples(st.sampled_from(_PHRASES), st.integers(0, 3), st.integers(1, 14)).map(
    lambda chosen: chosen[0][chosen[1] : chosen[2]]
)
_TEXT = st.lists(
    st.one_of(
        st.sampled_from(_PHRASES),
        _FRAGMENT,
        st.sampled_from(_CHARACTERS),
        st.sampled_from(list("，。 -、？！（）\n…")),
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
        st.text(max_size=3),
    ),
    max_size=16,
).map("".join)


@settings(max_examples=600)
@given(_TEXT)
def test_the_fast_path_writes_what_the_converter_writes(text: str) -> None:
    assert _simplifier_in_use().convert(text) == _CONVERTER.convert(text)
    assert to_simplified(text) == _CONVERTER.convert(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("藉助於邑", "借助于邑"),  # the longest phrase wins over two shorter ones it overlaps
        ("反覆思藉藉讀", "反复思藉藉读"),  # 藉藉 before 藉讀: equal length, the leftmost
        ("於邑", "於邑"),  # a phrase keeps a character the character table would change
        ("客戶來電反映服務廳經理態度惡劣", "客户来电反映服务厅经理态度恶劣"),
    ],
)
def test_overlapping_phrases_are_chosen_as_the_converter_chooses(text: str, expected: str) -> None:
    assert _CONVERTER.convert(text) == expected
    assert _simplifier_in_use().convert(text) == expected


def _fixture_texts() -> list[str]:
    texts = []
    for path in (
        _ROOT / "data" / "fixtures" / "complaints.dev.jsonl",
        *sorted((_ROOT / "tests" / "intake" / "corpus").glob("*.jsonl")),
    ):
        for line in path.read_text(encoding="utf-8").splitlines():
            texts.extend(value for value in _strings(json.loads(line)) if value)
    return texts


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def test_every_fixture_text_converts_as_the_converter_converts_it() -> None:
    texts = _fixture_texts()
    assert len(texts) > 500
    converted = [text for text in texts if _CONVERTER.convert(text) != text]
    assert len(converted) > 50  # the fixtures do hold Traditional text
    simplifier = _simplifier_in_use()
    assert [simplifier.convert(text) for text in texts] == [
        _CONVERTER.convert(text) for text in texts
    ]


def test_tables_the_shortcuts_do_not_fit_keep_the_converter() -> None:
    separators = re.compile(r"(\s+|，)")
    phrases = (14, 2, {"服務": "服务"})
    characters = (1, 1, {"務": "务"})
    assert simplifier_for([[phrases, characters]], separators) is not None
    assert simplifier_for([[phrases, (2, 1, {"務務": "务务"})]], separators) is None
    assert simplifier_for([[phrases, (1, 1, {"，": ","})]], separators) is None
    assert simplifier_for([[(14, 2, {"服，務": "服务"}), characters]], separators) is None
    assert simplifier_for([[phrases], [characters]], separators) is None
