"""A storm of P1s to the leadership robot: merged messages at its free turns (ADR 0043)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contracts import DeliveryStatus, Kind, Severity
from servicekit.clock import FakeClock
from tests.notifier.rig import NOW, FailingCompleteLog, FakeChannel, Rig, classified

TURN = timedelta(seconds=3)  # the telecom pack's robots: 20 messages a minute
STORM = 60  # P1s in one batch: a burst of 20, then 40 waiting


def robot_rig(**kwargs: object) -> tuple[Rig, FakeChannel]:
    robot = FakeChannel("dingtalk")
    rig = Rig(channels={"webhook": FakeChannel("webhook"), "dingtalk": robot}, **kwargs)  # type: ignore[arg-type]
    return rig, robot


def p1s(count: int) -> list[object]:
    return [
        classified(Kind.COMPLAINT, cid=f"CP20261124-{i:010d}", severity=Severity.P1)
        for i in range(1, count + 1)
    ]


def robot_receipts(rig: Rig, status: DeliveryStatus) -> list[str]:
    return [
        r.data.notification_id
        for r in rig.receipts
        if r.data.channel == "dingtalk" and r.data.status is status
    ]


async def test_p1s_over_the_robots_limit_go_as_merged_messages_each_marked_delivered() -> None:
    rig, robot = robot_rig()
    await rig.on_classified(*p1s(STORM))  # type: ignore[arg-type]
    assert len(robot.sent) == 20  # the burst, one message each
    waiting = [r.data for r in rig.receipts if r.data.status is DeliveryStatus.DEFERRED]
    assert len(waiting) == STORM - 20
    assert {w.reason for w in waiting} == {"rate_limited"}
    start = rig.clock.now()
    # Two merged messages' turns, not forty: 25 lines, then 15.
    assert {w.deliver_after for w in waiting} == {start + TURN, start + 2 * TURN}

    rig.clock.advance(TURN - timedelta(milliseconds=1))
    assert await rig.dispatcher.run_once() == 0  # nothing read or sent before the turn
    rig.clock.advance(timedelta(milliseconds=1))
    assert await rig.dispatcher.run_once() == 25
    rig.clock.advance(TURN)
    assert await rig.dispatcher.run_once() == 15
    assert await rig.dispatcher.run_once() == 0

    first, second = robot.sent[20:]
    assert (first.template, second.template) == ("staff_merged", "staff_merged")
    assert "25件" in first.subject
    assert "15件" in second.subject
    told = [*robot.sent[:20]]
    for n in range(21, STORM + 1):
        case = f"CP20261124-{n:010d}"
        assert sum(case in m.body for m in (first, second)) == 1  # one line, one message
        assert f"{case}（重大）" in first.body + second.body
    assert len(told) == 20
    delivered = robot_receipts(rig, DeliveryStatus.DELIVERED)
    assert len(delivered) == len(set(delivered)) == STORM
    assert rig.metric("complaints_notification_digests_total", channel="dingtalk") == 2


async def test_lines_due_beyond_one_message_go_on_free_turns_or_join_the_next_slot() -> None:
    """The dispatcher fell behind: more lines are due than one message holds. With the robot's
    turns spent, one message goes and the rest join the next turn; with turns free again (a
    long delay, a restart), as many full messages go at once as there are free turns."""
    rig, robot = robot_rig()
    await rig.on_classified(*p1s(STORM))  # type: ignore[arg-type]
    start = rig.clock.now()
    rig.clock.set(start + 2 * TURN)  # both slots due at once, no turn free
    assert await rig.dispatcher.run_once() == STORM - 20
    assert len(robot.sent) == 21
    assert len(robot_receipts(rig, DeliveryStatus.DELIVERED)) == 45
    again = [r.data for r in rig.receipts if r.data.status is DeliveryStatus.DEFERRED][40:]
    assert {r.deliver_after for r in again} == {start + 3 * TURN}
    assert len(again) == 15
    rig.clock.set(start + 3 * TURN)
    assert await rig.dispatcher.run_once() == 15
    assert [len(m.body.splitlines()) - 1 for m in robot.sent[20:]] == [25, 15]

    late, late_robot = robot_rig()
    await late.on_classified(*p1s(STORM))  # type: ignore[arg-type]
    late.clock.advance(10 * TURN)
    assert await late.dispatcher.run_once() == STORM - 20
    assert [m.template for m in late_robot.sent[20:]] == ["staff_merged"] * 2
    assert len(robot_receipts(late, DeliveryStatus.DELIVERED)) == STORM


@pytest.mark.parametrize("crash", [False, True], ids=["alive", "crashed after sending"])
async def test_a_crash_between_the_merged_send_and_its_marks_resends_it_once_under_its_key(
    crash: bool,
) -> None:
    """As a claimed robot message (ADR 0038): the members stay leased, a live sender keeps
    them unsent here; after its death the next dispatcher sends the same message once more
    (same key: the same members), and marks every member delivered once."""
    log = FailingCompleteLog("the sender died before recording")
    clock = FakeClock(NOW + timedelta(seconds=2))
    rig, robot = robot_rig(log=log, clock=clock)
    await rig.on_classified(*p1s(30))  # type: ignore[arg-type]
    clock.advance(TURN)
    log.failures = 1
    with pytest.raises(TimeoutError):
        await rig.dispatcher.run_once()
    merged = robot.sent[20]
    assert merged.template == "staff_merged"
    clock.advance(timedelta(minutes=3))  # the dispatcher's lease ran out
    survivor, again = robot_rig(log=log, clock=clock) if crash else (rig, robot)
    await survivor.dispatcher.run_once()
    merged_sent = [m.key for r in {id(robot): robot, id(again): again}.values() for m in r.sent]
    assert [k for k in merged_sent if k.startswith("digest:")] == [merged.key] * (1 + crash)
    assert sorted(log.statuses().values()).count("delivered") == 30 * 2  # robot and desk
    assert await survivor.dispatcher.run_once() == 0


async def test_customer_sms_over_the_limit_are_never_merged() -> None:
    rig = Rig()
    rig.clock.advance(timedelta(hours=3))
    planner = rig.notifier.planner
    assert planner.merge_size("sms") == 1
    assert planner.merge_template("sms") is None
