"""Traditional / Simplified parity, normalisation and head-count numerals (property-based)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import opencc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classifier.domain import Classifier, ClassifierInput, Decision, normalise
from classifier.domain.numerals import parse_count
from contracts import Channel, CustomerTier

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
FIXTURE = [
    json.loads(line)["text"]
    for line in (ROOT / "data" / "classifier" / "complaints.dev.jsonl")
    .read_text("utf-8")
    .splitlines()
]
FRAGMENTS = [
    "第二次投诉",
    "我们30多户业主联名",
    "已经上了电视",
    "再不解决就找记者曝光",
    "已向工信部申诉",
    "律师函已经寄出",
    "营业员推搡客户受伤",
    "请问怎么办理",
    "举报员工私下收钱",
    "宽带断网三天",
    "话费乱扣",
    "个人信息泄露",
]
CONVERTERS = [opencc.OpenCC(name) for name in ("s2t", "s2hk", "s2tw")]
TELECOM = Classifier.load(policy_dir=ROOT / "policies", pack="telecom")

simplified_text = st.one_of(
    st.sampled_from(FIXTURE).map(normalise),
    st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=4).map("，".join),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=simplified_text,
    converter=st.sampled_from(CONVERTERS),
    channel=st.sampled_from(list(Channel)),
    tier=st.sampled_from(list(CustomerTier)),
)
def test_traditional_and_simplified_give_the_same_decision(
    text: str, converter: opencc.OpenCC, channel: Channel, tier: CustomerTier
) -> None:
    traditional = converter.convert(text)
    simplified = TELECOM.classify(ClassifierInput(text, channel, tier), received_at=NOW)
    converted = TELECOM.classify(ClassifierInput(traditional, channel, tier), received_at=NOW)
    assert replace(converted, explanation=()) == replace(simplified, explanation=())
    # Explanations quote each message in its own script; normalised, the quotes are the same.
    assert _quotes(converted) == _quotes(simplified)


def _quotes(decision: Decision) -> list[tuple[str, str, list[str]]]:
    return [(r.rule, r.effect, [normalise(m) for m in r.matched]) for r in decision.explanation]


@given(st.sampled_from(FIXTURE), st.sampled_from(CONVERTERS))
def test_normalise_is_idempotent_and_script_blind(text: str, converter: opencc.OpenCC) -> None:
    once = normalise(text)
    assert normalise(once) == once
    assert normalise(converter.convert(text)) == once


def test_normalise_folds_width_case_and_pinyin_debris() -> None:
    assert normalise("ＡＰＰ顯示餘額－１２．５元") == "app显示余额-12.5元"
    assert normalise("營業(yè)廳") == "营业厅"


DIGITS = "零一二三四五六七八九"


def chinese(number: int) -> str:
    """Write 1–99 in Chinese numerals the usual way (十, 十五, 二十, 四十三)."""
    tens, ones = divmod(number, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else DIGITS[tens] + "十")
    return head + (DIGITS[ones] if ones else "")


@given(st.integers(min_value=1, max_value=99))
def test_chinese_and_arabic_head_counts_agree(number: int) -> None:
    assert parse_count(chinese(number)) == number == parse_count(str(number))


@given(st.integers(min_value=1, max_value=9999), st.sampled_from(["多", "余", "来"]))
def test_approximate_counts_read_as_at_least_the_number(number: int, suffix: str) -> None:
    assert parse_count(f"{number}{suffix}") == number


@pytest.mark.parametrize(
    ("text", "count"), [("十几", 13), ("几十", 30), ("两", 2), ("上百", 100), ("两百", 200)]
)
def test_vague_counts(text: str, count: int) -> None:
    assert parse_count(text) == count
