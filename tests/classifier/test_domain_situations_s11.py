"""Situations of session 11's error classes (issue 16): a law firm's letter that never says 律师函,
legal rights reserved, a lawsuit the customer only wishes they had filed, the word 骗子 used of the
customer or of a suspicion that proved wrong, someone claiming to be the carrier who took money, a
link that is not the carrier's, customers counting their own contacts (not the faults), a live
stream of the case, a rumour checked with a question. Simplified and Traditional, as the others.
"""

from __future__ import annotations

from datetime import UTC, datetime

import opencc
import pytest

from classifier.domain import Classifier, ClassifierInput
from contracts import Channel, CustomerTier, Kind
from tests._builders.situations import Case, assert_graded_as_domain_says, numbered

H, W, A = Channel.HOTLINE, Channel.WECHAT, Channel.APP
C, OUT, ENQ = Kind.COMPLAINT, Kind.OUT_OF_SCOPE, Kind.ENQUIRY
LAW = {"litigation"}
RECEIVED = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
TRADITIONAL = opencc.OpenCC("s2t")

LAWYERS: list[Case] = [
    (
        "本所受客户委托，就贵司在其停机后仍扣取月租一事，特发此函，请于七日内书面答复",
        Channel.LETTER,
        C,
        "P1",
        LAW,
        set(),
    ),
    (
        "我们律师事务所接受王女士的委托，现就其号码无故被停一事向贵司说明如下",
        Channel.LETTER,
        C,
        "P1",
        LAW,
        set(),
    ),
    (
        "我已经问过律师了，保留追究你们法律责任的权利，三天内给我答复",
        Channel.EMAIL,
        C,
        "P2",
        LAW,
        set(),
    ),
    ("早知道这么麻烦，当初就该直接起诉你们，现在只想把多收的钱退回来", H, C, "P4", set(), LAW),
]
FRAUD_WORDS: list[Case] = [
    ("营业员当着别人的面说我是骗子，我要求她向我道歉", W, C, "P4", set(), set()),
    ("接到电话我还以为是诈骗，结果真是你们客服在推销流量包，一天打三次", H, C, "P4", set(), set()),
    (
        "有个说自己是你们营业厅的人打电话讲能降月租，我信了，被他骗走了八百块",
        H,
        OUT,
        None,
        set(),
        set(),
    ),
    (
        "收到短信让我点链接领话费，那个网址根本不是你们官方的，提醒你们一下",
        Channel.SMS,
        OUT,
        None,
        set(),
        set(),
    ),
]
COUNTED: list[Case] = [
    ("第二次发消息问了，停机保号为什么收我二十块", W, C, "P3", {"repeat"}, set()),
    ("这个问题我已经提了两次工单了，还是没人处理，网速照样慢", A, C, "P3", {"repeat"}, set()),
    ("上周找你们退过一次费了，这周又被扣了，怎么回事", W, C, "P3", {"repeat"}, set()),
    ("今天是我第三次打电话了，宽带还是连不上", H, C, "P3", {"repeat"}, set()),
    ("这个月第三次断网了，赶紧派人修一下", H, C, "P4", set(), {"repeat"}),
    ("宽带又断了，这已经是第三次发生这种事了", W, C, "P4", set(), {"repeat"}),
]
ONLINE_AND_ASKED: list[Case] = [
    (
        "客户在营业厅里开着直播跟营业员理论，说要让网友评评理",
        Channel.WALK_IN,
        C,
        "P2",
        {"media"},
        set(),
    ),
    ("我没开直播，也不会发到网上，就想把多扣的费退了", W, C, "P4", set(), {"media"}),
    ("听说你们下个月要取消不限量套餐了，是真的吗？我这个会不会受影响", W, ENQ, None, set(), set()),
    ("你们说这个月免费是真的吗？我明明被扣了三十块", W, C, "P4", set(), set()),
]
GROUPS = {"lawyers": LAWYERS, "fraud": FRAUD_WORDS, "counted": COUNTED, "online": ONLINE_AND_ASKED}
CASES, IDS = numbered(GROUPS)


@pytest.mark.parametrize("script", ["simplified", "traditional"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_session11_situation_is_graded_as_domain_says(
    telecom: Classifier, case: Case, script: str
) -> None:
    assert_graded_as_domain_says(telecom, case, script)


# Category boundaries the session-11 set showed (the model's, trained on own6-session11.tsv).
CATEGORIES = [
    ("商场门口的推广员说办这张卡每月二十九全包，宣传单也这么写，结果每个月扣七十九", "marketing"),
    ("线已经拉到我们单元楼下一个多月了，就是没人来给我家接通宽带", "fulfilment"),
    ("家里收讯差到接不了电话，一定要站在门口才有信号", "network"),
    ("营业厅的保安对排队的老人大呼小叫，还把人往外赶", "staff_conduct"),
]


@pytest.mark.parametrize("script", ["simplified", "traditional"])
@pytest.mark.parametrize(("text", "category"), CATEGORIES, ids=[c for _, c in CATEGORIES])
def test_session11_boundary_goes_to_its_category(
    telecom: Classifier, text: str, category: str, script: str
) -> None:
    text = TRADITIONAL.convert(text) if script == "traditional" else text
    decision = telecom.classify(
        ClassifierInput(text, Channel.WECHAT, CustomerTier.STANDARD), received_at=RECEIVED
    )
    assert decision.kind is Kind.COMPLAINT
    assert decision.category is not None
    assert decision.category.split("/")[0] == category, decision.explanation
