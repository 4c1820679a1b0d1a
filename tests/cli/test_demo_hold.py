"""The demo's business time holds while staff wait on the system, within a budget."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from complaints_cli.demo_hold import TimeKeeper
from complaints_cli.staff_outcome import unheard
from complaints_cli.staff_script import Assignment, awaited_firing
from servicekit.clock import parse_anchor_file

RECEIVED = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
DISPATCH = (RECEIVED, RECEIVED + timedelta(minutes=30))


def holds(path: Path) -> tuple[tuple[datetime, datetime | None], ...]:
    return parse_anchor_file(path.read_text())[1]


def test_time_holds_while_a_step_waits_too_long_and_runs_again_when_it_is_done(
    tmp_path: Path,
) -> None:
    keeper = TimeKeeper(tmp_path / "anchor", behind_s=0.05, budget_s=10.0)
    keeper.anchor = datetime.now(UTC)  # as `start` sets it, without its task
    keeper.due("staff-a-1")
    assert not keeper.decide()  # just fell due: no hold yet
    time.sleep(0.08)
    assert keeper.decide()
    assert keeper.holding
    assert [end for _, end in holds(tmp_path / "anchor")] == [None]
    assert not keeper.decide()  # still behind: the same hold
    keeper.done("staff-a-1")
    assert keeper.decide()
    assert not keeper.holding
    ((start, end),) = holds(tmp_path / "anchor")
    assert end is not None
    assert end - start >= timedelta(0)


def test_the_budget_bounds_the_holds(tmp_path: Path) -> None:
    keeper = TimeKeeper(tmp_path / "anchor", behind_s=0.0, budget_s=0.1)
    keeper.anchor = datetime.now(UTC)
    keeper.due("staff-a-1")
    time.sleep(0.01)
    assert keeper.decide()
    time.sleep(0.12)
    assert keeper.decide()  # the budget is spent: time runs again though the step still waits
    assert not keeper.holding
    assert not keeper.decide()
    assert keeper.held_s >= 0.1
    assert "1 holds" in keeper.note()


def test_nothing_is_held_before_business_time_starts(tmp_path: Path) -> None:
    keeper = TimeKeeper(tmp_path / "anchor", behind_s=0.0)
    keeper.due("staff-a-1")
    time.sleep(0.01)
    assert not keeper.decide()
    assert not (tmp_path / "anchor").exists()


def test_only_a_late_scripts_dispatch_waits_for_a_firing() -> None:
    def case(script: str, *, acknowledged: bool = True, clock: bool = True) -> Assignment:
        dispatch = DISPATCH if clock else None
        return Assignment("c", script, "P1", RECEIVED, "h", "b", acknowledged, dispatch)

    assert awaited_firing(case("late"), 0) == 100  # the breach, then the dispatch
    assert awaited_firing(case("escalated"), 0) == 150  # the escalation, then the dispatch
    assert awaited_firing(case("late", acknowledged=False), 0) is None  # first acknowledges
    assert awaited_firing(case("late", acknowledged=False), 1) == 100
    assert awaited_firing(case("late"), 1) is None
    assert awaited_firing(case("prompt"), 0) is None
    assert awaited_firing(case("late", clock=False), 0) is None  # no dispatch clock to breach


def test_the_demo_waits_for_the_scripted_firings_it_has_not_heard() -> None:
    def case(cid: str, script: str, *, clock: bool = True) -> Assignment:
        return Assignment(cid, script, "P1", RECEIVED, "h", "b", True, DISPATCH if clock else None)

    cases = [
        case("a", "late"),
        case("b", "escalated"),
        case("c", "prompt"),
        case("d", "neglected", clock=False),  # no dispatch clock: nothing to wait for
    ]
    heard: dict[str, set[int]] = {"a": {50, 80, 100}, "b": {100}}

    def of(cid: str, clock: str) -> set[int]:
        return heard.get(cid, set()) if clock == "dispatch" else set()

    assert unheard(cases, of) == 1  # b's escalation
    heard["b"].add(150)
    assert unheard(cases, of) == 0
