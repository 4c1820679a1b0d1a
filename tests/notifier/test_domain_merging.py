"""Merge slots of the group robots: staff messages over the limit share one turn (ADR 0043)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts import Audience, Severity
from notifier.channels.base import Message
from notifier.channels.robots import TEXT_LIMIT, robot_text
from notifier.domain import Intent, Planner, PolicyError, RateLimiter, Recipient
from notifier.domain.policy import NotifierPolicy, RateLimit
from notifier.domain.recipients import Delivery
from tests.notifier.rig import NOW, pack_policy, pack_raw

ROBOT = RateLimit(per_minute=20, burst=2, merge=3, template="staff_merged")


def test_over_the_limit_messages_share_one_slot_of_up_to_merge_messages() -> None:
    limiter = RateLimiter({"dingtalk": ROBOT})
    answers = [limiter.reserve("group", "dingtalk", NOW, merged=True) for _ in range(9)]
    turn = timedelta(seconds=3)  # 20 a minute
    assert answers[:2] == [None, None]  # the burst
    assert answers[2:5] == [NOW + turn] * 3  # one slot: one token, three lines
    assert answers[5:8] == [NOW + 2 * turn] * 3
    assert answers[8] == NOW + 3 * turn


def test_a_slot_due_is_not_joined_and_unmerged_messages_take_a_turn_each() -> None:
    limiter = RateLimiter({"dingtalk": ROBOT})
    for _ in range(3):
        limiter.reserve("group", "dingtalk", NOW, merged=True)
    slot = NOW + timedelta(seconds=3)
    # At the slot's own time its token is spent by it: a newcomer opens the next slot.
    assert limiter.reserve("group", "dingtalk", slot, merged=True) == slot + timedelta(seconds=3)
    single = RateLimiter({"dingtalk": ROBOT})
    answers = [single.reserve("group", "dingtalk", NOW) for _ in range(4)]
    assert answers[2:] == [NOW + timedelta(seconds=3), NOW + timedelta(seconds=6)]


@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=4_000), st.booleans(), st.booleans()),
        max_size=40,
    )
)
def test_a_merged_reservation_taken_back_at_once_is_as_if_never_made(
    steps: list[tuple[int, bool, bool]],
) -> None:
    limiter, never = RateLimiter({"dingtalk": ROBOT}), RateLimiter({"dingtalk": ROBOT})
    moment = NOW
    for gap_ms, merged, taken_back in steps:
        moment += timedelta(milliseconds=gap_ms)
        until, undo = limiter.reserve_undoably("g", "dingtalk", moment, merged=merged)
        if taken_back:
            assert undo is not None
            undo()
        else:
            assert until == never.reserve("g", "dingtalk", moment, merged=merged)


def _staff(
    cid: str, audience: Audience = Audience.LEADERSHIP, channel: str = "dingtalk"
) -> Delivery:
    intent = Intent(
        key=f"{cid}:major:{audience.value}",
        complaint_id=cid,
        audience=audience,
        template="staff_major",
        trigger_time=NOW,
        severity=Severity.P1,
    )
    return Delivery(intent.key, intent, Recipient("leadership-dingtalk", channel, "", "x"))


def test_only_staff_messages_on_a_merging_channel_merge() -> None:
    planner = Planner(pack_policy())
    assert planner.merges(_staff("CP20261124-0000000001"))
    assert not planner.merges(_staff("CP20261124-0000000001", Audience.CUSTOMER))
    assert not planner.merges(_staff("CP20261124-0000000001", channel="webhook"))
    assert planner.merge_size("sms") == 1
    assert planner.merge_template("dingtalk") == "staff_merged"


@pytest.mark.parametrize("channel", ["sms", "email", "webhook"])
def test_a_pack_cannot_merge_what_is_not_a_group_robot(channel: str) -> None:
    raw = pack_raw()
    raw["rate_limits"][channel] = {
        "per_minute": 1,
        "burst": 1,
        "merge": 5,
        "merge_template": "staff_merged",
    }
    with pytest.raises(PolicyError, match="only the group robots merge"):
        NotifierPolicy.from_mapping(raw)


@pytest.mark.parametrize("pack", ["telecom", "property"])
def test_a_full_merged_message_of_the_longest_lines_fits_the_robots_text_limit(pack: str) -> None:
    """Nothing is cut: every line of a merged message reaches the group (robot_text would
    cut at 2,048 bytes, and a cut line is a case marked delivered that nobody saw)."""
    policy = pack_policy(pack)
    templates = policy.templates
    size = min(limit.merge for limit in policy.rate_limits.values() if limit.template)
    label = max(policy.severity_labels.values(), key=lambda v: len(v.encode()))
    values = {
        "case": "CP20261124-0000000001",
        "severity_label": label,
        "previous_severity_label": label,
        "clock_label": max(policy.clock_labels.values(), key=lambda v: len(v.encode())),
        "fault": "移动信号中断",
        "count": "1000",
    }
    subjects = [
        templates.render(name, values, html=False).subject
        for name in policy.template_names()
        if name.startswith("staff_")
    ]
    longest = max(subjects, key=lambda s: len(s.encode()))
    headline = " ".join(longest.replace(values["case"], " ").split())
    item = {"case": values["case"], "severity_label": label, "headline": headline}
    rendered = templates.render("staff_merged", {"count": str(size)}, [item] * size, html=False)
    message = Message("k", "r", "", rendered.subject, rendered.body, "", "c", "leadership", "t")
    text = robot_text(message)
    assert text == f"{rendered.subject}\n{rendered.body}"
    assert len(text.encode()) <= TEXT_LIMIT
    assert text.count(f"{values['case']}（{label}）{headline}") == size
