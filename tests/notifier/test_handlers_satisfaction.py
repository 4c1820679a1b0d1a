"""Callback answers: counted for 满意率, and a 不满意 goes to the responsible department."""

from __future__ import annotations

from contracts import CaseState, LifecycleAction, Satisfaction, Verdict
from tests.notifier.rig import Rig, state_changed


def answered(answer: Satisfaction, n: int):  # type: ignore[no-untyped-def]
    event = state_changed(
        LifecycleAction.CALLBACK_DONE,
        cid=f"CP20261124-{n:010d}",
        action_id=f"cb-{n}",
        to_state=CaseState.CALLBACK_DONE,
    )
    return event.model_copy(update={"data": event.data.model_copy(update={"satisfaction": answer})})


async def test_answers_are_counted_per_kind_and_unreachable_is_not_an_answer() -> None:
    rig = Rig()
    answers = [
        *[Satisfaction.VERY_SATISFIED] * 2,
        *[Satisfaction.SATISFIED] * 6,
        *[Satisfaction.DISSATISFIED] * 2,
        Satisfaction.UNREACHABLE,
    ]
    await rig.on_lifecycle(*(answered(a, n) for n, a in enumerate(answers, start=1)))
    counted = {
        a: rig.metric("complaints_satisfaction_answers_total", answer=a.value) for a in Satisfaction
    }
    assert counted[Satisfaction.VERY_SATISFIED] == 2
    assert counted[Satisfaction.SATISFIED] == 6
    assert counted[Satisfaction.DISSATISFIED] == 2
    assert not counted[Satisfaction.UNREACHABLE]
    rate = (counted[Satisfaction.VERY_SATISFIED] + counted[Satisfaction.SATISFIED]) / sum(
        counted.values()
    )
    assert rate == 0.8


async def test_a_dissatisfied_answer_reaches_the_responsible_department_once() -> None:
    rig = Rig()
    event = answered(Satisfaction.DISSATISFIED, 1)
    await rig.on_lifecycle(event, event)
    await rig.on_lifecycle(answered(Satisfaction.SATISFIED, 2))
    [told] = [m for m in rig.webhook.sent if m.subject.startswith("回访不满意")]
    assert "CP20261124-0000000001" in told.body
    assert told.recipient == "team-lead-desk"


def closed(verdict: Verdict, n: int, *, review_needed: bool):  # type: ignore[no-untyped-def]
    event = state_changed(
        LifecycleAction.CLOSED,
        cid=f"CP20261124-{n:010d}",
        action_id=f"close-{n}",
        to_state=CaseState.CLOSED,
        verdict=verdict,
    )
    data = event.data.model_copy(update={"review_needed": review_needed})
    return event.model_copy(update={"data": data})


async def test_a_closure_that_flags_the_complainant_tells_the_reviewing_manager_once() -> None:
    rig = Rig()
    flagged = closed(Verdict.MALICIOUS, 1, review_needed=True)
    await rig.on_lifecycle(flagged, flagged, closed(Verdict.BASELESS, 2, review_needed=False))
    told = [m for m in rig.webhook.sent if m.subject.startswith("投诉人待人工复核")]
    assert [m.recipient for m in told] == ["service-manager-desk"]
    assert "CP20261124-0000000001" in told[0].body
    assert "malicious" in told[0].body
