"""Masking of personal data in text and in contact summaries."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from intake.domain import mask_text, normalise_text
from intake.domain.masking import mask_email, mask_name, mask_phone

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_MOBILES = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
_FILLER = st.text(alphabet="客户来电反映扣费号码 0123456789-+，。:：Xx", max_size=12)


@settings(max_examples=300)
@given(st.lists(st.one_of(_MOBILES, _FILLER), max_size=6).map("".join))
def test_masking_never_leaves_a_mobile_number(text: str) -> None:
    assert not _MOBILE.search(mask_text(normalise_text(text)))


@settings(max_examples=200)
@given(_MOBILES)
def test_full_width_and_spaced_mobiles_are_masked(mobile: str) -> None:
    full_width = "".join(chr(ord(char) + 0xFEE0) for char in mobile)
    spaced = f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}"
    for text in (f"手机{full_width}", f"电话：{spaced}。", f"+86{mobile}", f"86-{mobile}"):
        masked = mask_text(normalise_text(text))
        compact = masked.replace(" ", "").replace("-", "")
        assert f"{mobile[:3]}****{mobile[7:]}" in compact
        assert mobile not in compact


@given(st.text(max_size=40))
def test_mask_text_never_raises_and_is_stable(text: str) -> None:
    once = mask_text(text)
    assert mask_text(once) == once


def test_mobile_keeps_prefix_and_last_four() -> None:
    assert mask_text("我的手机13812345678打不通") == "我的手机138****5678打不通"


def test_identity_numbers_and_bank_cards_keep_only_last_four() -> None:
    masked = mask_text("身份证11010519491231002X，银行卡6222021234567890123")
    assert "11010519491231002X" not in masked
    assert masked.endswith("***************0123")
    assert "**************002X" in masked


def test_landline_is_masked_but_short_service_numbers_stay() -> None:
    masked = mask_text("打了0755-12345678和10086、12315，工单20261124")
    assert "12345678" not in masked
    assert "10086" in masked
    assert "12315" in masked
    assert "20261124" in masked


def test_email_addresses_are_masked() -> None:
    assert mask_text("请回复zhangsan@example.com") == "请回复z***@example.com"


def test_names_after_cues_keep_only_the_surname() -> None:
    assert mask_text("我叫张三丰，机主：李四") == "我叫张**，机主：李*"
    assert mask_text("联系人：王小明，申请人为赵六") == "联系人：王**，申请人为赵*"
    assert mask_text("联系人：陈先生") == "联系人：陈先生"
    assert mask_text("姓名：欧阳娜娜") == "姓名：欧***"
    assert mask_text("本人叫劉德華，") == "本人叫劉**，"


def test_words_that_only_look_like_name_cues_stay() -> None:
    for text in (
        "前任机主绑定的各种账户还在",
        "对方知道其姓名和身份证号",
        "联系人说明天再来",
        "我叫维修师傅上门",
        "我叫了外卖",
        "我叫上门的师傅等一下",
        "机主是我爸",
    ):
        assert mask_text(text) == text


def test_addresses_keep_the_district_and_hide_numbers() -> None:
    masked = mask_text("家住广州市天河区天河路385号阳光小区3栋502室")
    assert masked.startswith("家住广州市天河区天河路")
    assert not re.search(r"\d", masked)
    assert "阳光小区" in masked


def test_place_names_with_numerals_stay() -> None:
    for text in ("现长期居住在海南三亚，无法办理", "我們同一棟樓四戶人家一起來的"):
        assert mask_text(text) == text
    assert mask_text("住在三元里村五号楼") == "住在三元里村*号楼"


def test_house_numbers_are_masked_without_a_cue() -> None:
    masked = mask_text("中山路12号5单元门口基站辐射")
    assert "12" not in masked
    assert "5单元" not in masked
    assert "基站辐射" in masked


def test_dates_and_amounts_are_kept() -> None:
    text = "11月3号扣了58元，2026-11-24再次扣费"
    assert mask_text(text) == text


def test_contact_summary_masks() -> None:
    assert mask_name("张三") == "张*"
    assert mask_name("  ") is None
    assert mask_phone("+8613812345678") == "+86138****5678"
    assert mask_phone(None) is None
    assert mask_email("a@b.cn") == "a***@b.cn"
