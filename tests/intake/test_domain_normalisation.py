"""Properties of text normalisation and the Simplified copy."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st
from opencc import OpenCC

from intake.domain import normalise_text, to_simplified
from intake.domain.normalisation import _changing

# Text that looks like what channels send: CJK, ASCII, full-width forms, pinyin artefacts,
# whitespace and control characters, plus anything else Unicode has.
_PIECES = st.sampled_from(
    [
        "服務(wù)",
        "經(jīng)理",
        "（wù）",
        "(a)",
        "１３８",
        "ＡＢＣ",
        "，",
        "。",
        "\u3000",
        "\r\n",
        "\t",
        "\x00",
        "\u200b",
        "\ufeff",
        "e\u0301",
        "\u202e",
        "\n\n\n",
        "  ",
        "客户来电反映",
        "10086",
        "X",
    ]
)
_TEXT = st.lists(st.one_of(_PIECES, st.text(max_size=8)), max_size=12).map("".join)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@settings(max_examples=300)
@given(_TEXT)
def test_normalise_is_idempotent(text: str) -> None:
    once = normalise_text(text)
    assert normalise_text(once) == once


@settings(max_examples=300)
@given(_TEXT)
def test_normalised_text_has_no_control_or_format_characters(text: str) -> None:
    out = normalise_text(text)
    assert not _CONTROL.search(out)
    assert all(unicodedata.category(char) not in {"Cf", "Cs"} for char in out)
    assert "\t" not in out
    assert out == out.strip()


@given(st.text(alphabet="0123456789", min_size=1, max_size=20))
def test_full_width_digits_become_ascii(digits: str) -> None:
    full_width = "".join(chr(ord(char) + 0xFEE0) for char in digits)
    assert normalise_text(f"号码{full_width}号") == f"号码{digits}号"


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ@.-+", min_size=1))
def test_full_width_ascii_becomes_half_width(ascii_text: str) -> None:
    full_width = "".join(chr(ord(char) + 0xFEE0) for char in ascii_text)
    assert normalise_text(full_width) == ascii_text


def test_chinese_punctuation_is_kept() -> None:
    text = "为什么扣费？我没有办理！（已投诉两次），请回复：谢谢；"
    assert normalise_text(text) == text


def test_clock_times_get_an_ascii_colon() -> None:
    assert (
        normalise_text("１０月２２日１４：００－１６：００，备注：无")
        == "10月22日14:00-16:00，备注：无"
    )


def test_whitespace_is_collapsed_and_paragraphs_kept() -> None:
    assert normalise_text("  第一段 \t\u3000内容 \r\n\r\n\r\n  第二段  ") == "第一段 内容\n第二段"


def test_conversion_artefacts_are_removed() -> None:
    assert normalise_text("服務(wù)廳經(jīng)理") == "服務廳經理"
    assert normalise_text("暢通總經(jīng)理服務(wù)熱線") == "暢通總經理服務熱線"
    assert normalise_text("开设（shè）营业厅") == "开设营业厅"


def test_parenthesised_latin_that_is_not_pinyin_stays() -> None:
    assert normalise_text("套餐(A)和方案(b)") == "套餐(A)和方案(b)"
    assert normalise_text("test (wù)") == "test (wù)"


def test_zero_width_and_bidi_characters_are_dropped() -> None:
    assert normalise_text("乱\u200b扣\u202e费\ufeff") == "乱扣费"


@settings(max_examples=100)
@given(_TEXT)
def test_simplified_copy_never_raises_and_keeps_ascii(text: str) -> None:
    out = to_simplified(normalise_text(text))
    ascii_in = [char for char in normalise_text(text) if char.isascii()]
    assert [char for char in out if char.isascii()] == ascii_in


def test_traditional_becomes_simplified() -> None:
    assert to_simplified("客戶來電反映服務廳經理態度惡劣") == "客户来电反映服务厅经理态度恶劣"


_CONVERTER = OpenCC("t2s")
_HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
_MIXED = st.lists(
    st.one_of(_PIECES, st.text(_HAN, max_size=6), st.sampled_from(["么", "乾", "著", "後"])),
    max_size=12,
).map("".join)


@settings(max_examples=300)
@given(_MIXED)
def test_the_simplified_copy_is_what_the_converter_writes(text: str) -> None:
    """Texts without a character a replacement changes skip the converter: the same result."""
    assert to_simplified(text) == _CONVERTER.convert(text)


def test_simplified_text_skips_the_converter_and_traditional_text_does_not() -> None:
    simplified = "客户来电反映服务厅经理态度恶劣，什么时候处理？"
    assert _changing().isdisjoint(simplified.replace("么", ""))
    assert to_simplified(simplified) == simplified
    assert not _changing().isdisjoint("服務")
    assert "乾" in _changing()  # 乾 → 干 in most words: a character the tables change


def test_no_control_format_or_surrogate_character_is_printable() -> None:
    """What `_clean_controls`' fast path relies on: `isprintable()` refuses every one of them."""
    dropped = (
        chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) in {"Cc", "Cf", "Cs"}
    )
    assert not any(char.isprintable() for char in dropped)
