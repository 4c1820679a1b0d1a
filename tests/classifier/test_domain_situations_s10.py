"""Situations of session 10's error classes (issue 16): stated repeats to the own hotline, the
regulator told in speech, 升级投诉 in a branch's words, both regions passing a case back, official
accounts as online posts, a lawyer's letter sent verb first, retired staff complaining together,
a stranger who took the money and vanished. Simplified and Traditional, as the other situations.
"""

from __future__ import annotations

import pytest

from classifier.domain import Classifier
from contracts import Channel, Kind
from tests._builders.situations import Case, assert_graded_as_domain_says, numbered

H, W = Channel.HOTLINE, Channel.WECHAT
C, OUT = Kind.COMPLAINT, Kind.OUT_OF_SCOPE
OVER, REG = {"over_level"}, {"over_level", "regulator"}

REPEAT: list[Case] = [
    (
        "客服热线我前后打了六七次了，每次都说在处理，网还是老断",
        H,
        C,
        "P3",
        {"repeat"},
        OVER,
    ),
    ("这是我第二次为扣费的事打电话了，上次说三天内回复", W, C, "P3", {"repeat"}, set()),
    ("我已经在10000号打过电话了，那边答应给我退，结果一分没退", H, C, "P3", {"repeat"}, OVER),
    ("打了10086四十分钟都没人接，多扣的钱怎么退", H, C, "P4", set(), {"repeat"}),
    ("话费已经被扣了三次了，我要求全部退还", H, C, "P4", set(), {"repeat"}),
]
TOLD: list[Case] = [
    ("我跟消费者协会的人讲过了，他们说会督促你们", H, C, "P2", REG, set()),
    ("我还没跟消协讲过，先给你们一次机会把钱退了", H, C, "P4", set(), OVER),
    ("市公司多次协调仍未解决，现已上报省公司统筹处理", H, C, "P2", set(), OVER),
    ("号码是在老家办的，两边营业厅都说不归他们管，注销不了", H, C, "P3", set(), OVER),
]
EXPOSED: list[Case] = [
    ("营业员骂人的事我已经写成文章发在公众号上了", W, C, "P2", {"media"}, set()),
    ("我不会发公众号的，你们把网修好就行", W, C, "P4", set(), {"media"}),
    ("本人已委托律师向贵司寄出律师函，请查收", Channel.LETTER, C, "P1", {"litigation"}, set()),
    ("如果还不退钱，我就让律师给你们发律师函", H, C, "P2", {"litigation"}, set()),
]
PEOPLE_AND_FRAUD: list[Case] = [
    (
        "我们是老干部活动中心的七位退休干部，一起来反映营业厅排队太久",
        Channel.WALK_IN,
        C,
        "P2",
        {"collective"},
        set(),
    ),
    (
        "有人自称是你们的代理商，收了我们村几户人的钱说帮办卡，现在人联系不上了",
        H,
        OUT,
        None,
        set(),
        set(),
    ),
    ("我就想问问，号码都停了为啥还要交月租", W, C, "P4", set(), set()),
]
GROUPS = {"repeat": REPEAT, "told": TOLD, "exposed": EXPOSED, "people": PEOPLE_AND_FRAUD}
CASES, IDS = numbered(GROUPS)


@pytest.mark.parametrize("script", ["simplified", "traditional"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_session10_situation_is_graded_as_domain_says(
    telecom: Classifier, case: Case, script: str
) -> None:
    assert_graded_as_domain_says(telecom, case, script)
