"""Severity and flag rules of the telecom pack (DOMAIN.md §3), one behaviour per test."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from classifier.domain import Classifier, ClassifierInput, Decision
from contracts import Channel, CustomerTier, FlagName, Kind, Severity

POLICIES = Path(__file__).resolve().parents[2] / "policies"
RECEIVED = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


def classify(
    classifier: Classifier,
    text: str,
    channel: Channel = Channel.HOTLINE,
    tier: CustomerTier = CustomerTier.STANDARD,
) -> Decision:
    """Classify one message without history."""
    return classifier.classify(ClassifierInput(text, channel, tier), received_at=RECEIVED)


def flag_names(decision: Decision) -> set[FlagName]:
    """The flags of a decision, without the review marker."""
    return {flag.name for flag in decision.flags} - {FlagName.NEEDS_REVIEW}


@pytest.mark.parametrize(
    ("text", "severity"),
    [
        ("宽带断了三天还没人修，再不修好我就要找电视台曝光你们。", Severity.P2),
        ("你们乱扣费的事我要曝光到网上。", Severity.P2),
        ("乱扣费的事已经曝光了，本地报纸都登了。", Severity.P1),
        ("你们乱扣费的事情上了电视，播出后还是没人联系我。", Severity.P1),
        ("我把被乱扣费的经历拍成视频，视频火了，你们才想起联系我？", Severity.P1),
    ],
)
def test_media_threat_is_p2_and_media_that_happened_is_p1(
    telecom: Classifier, text: str, severity: Severity
) -> None:
    decision = classify(telecom, text)
    assert decision.severity is severity
    assert FlagName.MEDIA in flag_names(decision)


@pytest.mark.parametrize(
    ("text", "severity"),
    [
        ("再不退钱我就去法院起诉你们。", Severity.P2),
        ("若七日内不道歉，本人将委托律师提起诉讼。", Severity.P2),
        ("如十日内不退还，本人将向XX区人民法院提起诉讼。", Severity.P2),
        ("我已经向法院起诉你们了，法院已经立案。", Severity.P1),
        ("本人已向XX区人民法院提起诉讼，要求返还多收的费用。", Severity.P1),
        ("律师函已经寄到你们公司了，等着吧。", Severity.P1),
    ],
)
def test_lawsuit_threat_is_p2_and_filed_lawsuit_is_p1(
    telecom: Classifier, text: str, severity: Severity
) -> None:
    decision = classify(telecom, text)
    assert decision.severity is severity
    assert FlagName.LITIGATION in flag_names(decision)


@pytest.mark.parametrize(
    ("text", "count", "severity"),
    [
        ("我们30多户业主的宽带从上周起全部断网，联名要求尽快抢修。", 30, Severity.P1),
        ("我们是XX村的10位村民，联名反映营业厅态度恶劣。", 10, Severity.P1),
        ("我們同一棟樓九戶人家一起來的：報裝寬帶兩個月沒人裝。", 9, Severity.P2),
        ("我们宿舍的3名同学都没有信号，一起反映。", 3, Severity.P2),
        ("我们单位四个同事一起来的：每人都被多扣了月租。", 4, Severity.P2),
    ],
)
def test_head_counts_grade_collective_complaints(
    telecom: Classifier, text: str, count: int, severity: Severity
) -> None:
    decision = classify(telecom, text, Channel.LETTER)
    collective = next(f for f in decision.flags if f.name is FlagName.COLLECTIVE)
    assert collective.count == count
    assert decision.severity is severity


def test_two_people_are_not_a_collective_complaint(telecom: Classifier) -> None:
    decision = classify(telecom, "我们2位老人的宽带一起坏了，联名请你们来修。")
    assert FlagName.COLLECTIVE not in flag_names(decision)


@pytest.mark.parametrize("channel", [Channel.MEDIA, Channel.REGULATOR, Channel.SUPERIOR])
def test_over_level_channels_give_p2_over_level(telecom: Classifier, channel: Channel) -> None:
    decision = classify(telecom, "用户反映宽带每月被多收20元，要求退还。", channel)
    assert decision.severity is Severity.P2
    assert FlagName.OVER_LEVEL in flag_names(decision)


def test_regulator_named_in_text_counts_as_over_level(telecom: Classifier) -> None:
    decision = classify(telecom, "携号转网拖了一个月，我已向工信部投诉，申诉编号也拿到了。")
    assert decision.severity is Severity.P2
    assert {FlagName.OVER_LEVEL, FlagName.REGULATOR} <= flag_names(decision)
    assert any(reason.rule == "regulator.stated" for reason in decision.explanation)


def test_threat_to_go_to_the_regulator_is_not_over_level(telecom: Classifier) -> None:
    decision = classify(telecom, "打电话总是掉线，再不解决我就去工信部投诉你们！")
    assert FlagName.OVER_LEVEL not in flag_names(decision)
    assert decision.severity is Severity.P4


@pytest.mark.parametrize(
    ("tier", "vip"),
    [
        (CustomerTier.GOLD, True),
        (CustomerTier.DIAMOND, True),
        (CustomerTier.GOVERNMENT, True),
        (CustomerTier.ENTERPRISE_A, True),
        (CustomerTier.SILVER, False),
        (CustomerTier.STANDARD, False),
    ],
)
def test_important_customer_tiers_are_vip(
    telecom: Classifier, tier: CustomerTier, vip: bool
) -> None:
    decision = classify(telecom, "这个月账单多扣了四十元，请查清楚。", Channel.APP, tier)
    assert (FlagName.VIP in flag_names(decision)) is vip
    assert decision.severity is (Severity.P2 if vip else Severity.P4)


@pytest.mark.parametrize(
    "text",
    [
        "装维师傅和我父亲争执，把老人推倒在地，头部受伤，已经叫120送医院了。",
        "客戶在櫃台推搡營業員，現場已撥打110。",
        "客户扬言下班后要在门口等营业员“算账”。",
    ],
)
def test_safety_words_give_p1_safety(telecom: Classifier, text: str) -> None:
    decision = classify(telecom, text, Channel.WALK_IN)
    assert decision.severity is Severity.P1
    assert FlagName.SAFETY in flag_names(decision)


def test_reporting_fraud_to_the_police_is_not_a_safety_case(telecom: Classifier) -> None:
    decision = classify(telecom, "号码被人冒名补卡，银行卡被盗刷，本人已向派出所报案。")
    assert FlagName.SAFETY not in flag_names(decision)


@pytest.mark.parametrize(
    "text", ["这是第三次投诉了，彩铃费还在扣。", "彩铃费的事我已经反映了三次，还在扣。"]
)
def test_text_stated_repeat_counts_with_its_ordinal(telecom: Classifier, text: str) -> None:
    decision = classify(telecom, text)
    repeat = next(f for f in decision.flags if f.name is FlagName.REPEAT)
    assert repeat.count == 3
    assert decision.severity is Severity.P3


def test_highest_level_wins_and_every_rule_is_explained(telecom: Classifier) -> None:
    decision = classify(
        telecom, "第二次投诉：乱扣费的事已经上了电视，我要起诉你们。", tier=CustomerTier.GOLD
    )
    assert decision.severity is Severity.P1
    assert {FlagName.REPEAT, FlagName.MEDIA, FlagName.LITIGATION, FlagName.VIP} <= flag_names(
        decision
    )
    rules = {reason.rule for reason in decision.explanation}
    assert {"repeat.stated", "media.happened", "litigation.threat", "vip.tier"} <= rules


@pytest.mark.parametrize(
    "text",
    [
        "请问国际漫游在日本一天多少钱？",
        "客户来电咨询：副卡最多可以办几张？",
        "不是投诉哈，就是问问账单里的功能费是什么。",
    ],
)
def test_enquiries_get_no_category_or_severity(telecom: Classifier, text: str) -> None:
    decision = classify(telecom, text)
    assert decision.kind is Kind.ENQUIRY
    assert decision.category is None
    assert decision.severity is None


@pytest.mark.parametrize(
    "text",
    [
        "举报营业厅员工私下收取客户现金办理不实名的卡。",
        "實名舉報：客戶經理利用職務之便偽造客戶簽名辦理合約，套取酬金。",
    ],
)
def test_staff_fraud_reports_are_out_of_scope(telecom: Classifier, text: str) -> None:
    decision = classify(telecom, text)
    assert decision.kind is Kind.OUT_OF_SCOPE
    assert decision.severity is None


def test_decision_carries_category_path_versions_and_model_words(telecom: Classifier) -> None:
    decision = classify(telecom, "账单里有一笔不明扣费，每月被乱扣10元。")
    assert decision.kind is Kind.COMPLAINT
    assert decision.category is not None
    assert decision.category.startswith("billing")
    assert decision.policy == "telecom"
    assert decision.policy_version
    assert decision.model_version.startswith("telecom-")
    model_reason = next(r for r in decision.explanation if r.rule == "model")
    assert model_reason.matched
    assert 0.0 <= decision.confidence <= 1.0


def test_low_confidence_sets_needs_review(telecom: Classifier) -> None:
    decision = classify(telecom, "嗯。")
    assert decision.confidence < telecom.policy.min_confidence
    assert any(flag.name is FlagName.NEEDS_REVIEW for flag in decision.flags)
