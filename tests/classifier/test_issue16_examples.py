"""Issue 16's examples come out as DOMAIN.md says via `complaints classify`, in both scripts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import opencc
import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPLAINTS = Path(sys.executable).parent / "complaints"
SCRIPTS = {"simplified": None, "traditional": opencc.OpenCC("s2t"), "taiwan": opencc.OpenCC("s2tw")}

# (id, channel, text, kind, severity, flags that must be there, flags that must not)
Example = tuple[str, str, str, str, str | None, set[str], set[str]]
EXAMPLES: list[Example] = [
    (
        "12315-went",
        "hotline",
        "已经投诉到12315了，多收话费还不退",
        "complaint",
        "P2",
        {"over_level", "regulator"},
        set(),
    ),
    ("12315-called", "hotline", "我打过12315了", "complaint", "P2", {"over_level"}, set()),
    ("miit-appealed", "web", "我已经向工信部申诉了", "complaint", "P2", {"over_level"}, set()),
    (
        "journalist-at-counter",
        "walk_in",
        "客户带着电视台记者到营业厅要求采访",
        "complaint",
        "P2",
        {"media"},
        {"over_level"},
    ),
    (
        "tv-advert",
        "web",
        "电视上播了你们的广告说免费送宽带，结果装的时候又要收两百安装费",
        "complaint",
        "P4",
        set(),
        {"media"},
    ),
    (
        "not-suing",
        "hotline",
        "我不会去起诉你们，就想把多扣的那几十块钱要回来",
        "complaint",
        "P4",
        set(),
        {"litigation"},
    ),
    (
        "enterprise-staff",
        "hotline",
        "我们公司50名员工都用你们的专线，今天断网一整天",
        "complaint",
        "P4",
        set(),
        {"collective"},
    ),
    (
        "forum-post",
        "forum",
        "宽带三天两头断，交了钱用不了，客服只会说在处理",
        "complaint",
        "P2",
        {"media"},
        set(),
    ),
    (
        "fake-agent",
        "hotline",
        "有人冒充你们的客服打电话骗我转账",
        "out_of_scope",
        None,
        set(),
        set(),
    ),
    (
        "escalated",
        "hotline",
        "分公司处理不了，已经上升到省公司协调处理",
        "complaint",
        "P2",
        set(),
        {"over_level"},
    ),
    (
        "government-leader",
        "hotline",
        "我是区政府的领导，你们营业厅办个业务拖了一个星期还没办好",
        "complaint",
        "P2",
        {"vip"},
        set(),
    ),
    (
        "group-contact",
        "account_manager",
        "A级集团客户联系人反映：单位专线今天上午中断了三个小时",
        "complaint",
        "P2",
        {"vip"},
        set(),
    ),
    # The other side of each rule: a threat, the carrier's own hotline, a head count of people.
    (
        "12315-threat",
        "hotline",
        "如果再不退钱，我就去12315投诉你们",
        "complaint",
        "P4",
        set(),
        {"over_level"},
    ),
    (
        "own-hotline",
        "hotline",
        "打了好几次10086了，每次都说登记了，网还是断的",
        "complaint",
        None,
        set(),
        {"over_level"},
    ),
    (
        "neighbours",
        "letter",
        "我们小区三十多户居民联名反映，晚上手机一格信号都没有",
        "complaint",
        "P1",
        {"collective"},
        set(),
    ),
    (
        "went-viral",
        "web",
        "我拍的乱扣费视频已经上了热搜，你们还不处理",
        "complaint",
        "P1",
        {"media"},
        set(),
    ),
    (
        "journalist-came-along",
        "walk_in",
        "报社的记者跟我们几个邻居一起过来了，正在大厅里等着",
        "complaint",
        "P2",
        {"media"},
        set(),
    ),
    (
        "journalist-waiting",
        "hotline",
        "电视台的人已经在楼下等着采访你们领导了，网到现在都没修好",
        "complaint",
        "P2",
        {"media"},
        set(),
    ),
    ("money-lost-question", "app", "问一下我这个月咋多扣了二十元", "complaint", "P4", set(), set()),
]


@pytest.fixture(scope="module")
def decisions() -> dict[tuple[str, str], dict[str, Any]]:
    """Every example in every script, classified by one `complaints classify` run."""
    lines = []
    for script, converter in SCRIPTS.items():
        for example_id, channel, text, *_ in EXAMPLES:
            converted = converter.convert(text) if converter else text
            lines.append(
                json.dumps(
                    {"id": f"{script}:{example_id}", "channel": channel, "text": converted},
                    ensure_ascii=False,
                )
            )
    run = subprocess.run(
        [str(COMPLAINTS), "classify", "--policy-dir", str(ROOT / "policies")],
        input="\n".join(lines).encode(),
        capture_output=True,
        check=True,
        timeout=240,
    )
    out = [json.loads(line) for line in run.stdout.decode().splitlines() if line.strip()]
    return {tuple(row["id"].split(":", 1)): row for row in out}


@pytest.mark.parametrize("script", list(SCRIPTS))
@pytest.mark.parametrize("example", EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_example_is_graded_as_domain_says(
    decisions: dict[tuple[str, str], dict[str, Any]], script: str, example: Example
) -> None:
    example_id, _, _, kind, severity, present, absent = example
    decision = decisions[(script, example_id)]
    assert decision["kind"] == kind
    if severity is not None:
        assert decision["severity"] == severity
    flags = set(decision["flags"])
    assert present <= flags
    assert not absent & flags


def test_explanations_quote_the_customers_own_words(
    decisions: dict[tuple[str, str], dict[str, Any]],
) -> None:
    traditional = decisions[("traditional", "12315-went")]
    over_level = [r for r in traditional["explanation"] if r["rule"] == "regulator.stated"]
    assert over_level
    quoted = over_level[0]["matched"][0]
    assert "12315" in quoted
    assert quoted in SCRIPTS["traditional"].convert(EXAMPLES[0][2])
    assert "經" in quoted  # the Traditional original, not the normalised form
