"""Approved extensions are capped in natural time, one by one and per case (issue 21): the pack's
`extensions` settings, checked at load, by the case API (409) and by the lifecycle consumer."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from contracts import CaseActionRejected, ClockName, LifecycleAction
from sla.domain import SlaPolicy
from sla.domain.errors import PolicyError
from sla.settings import Role
from tests._builders.sla import CID, POLICIES, POLICY, Rig, case_api, classified
from tests._builders.sla_actions import KEY, act, action, at, entry

A = LifecycleAction
DAY = timedelta(days=1)


def extend(clock: ClockName, hours: float) -> dict[str, Any]:
    return {"clock": clock, "extend_by_hours": hours, "reason": "vendor", "approver": "m-1"}


def policy_with(tmp_path: Path, extensions: str) -> SlaPolicy:
    pack = tmp_path / "telecom"
    pack.mkdir()
    original = (POLICIES / "telecom" / "sla.yaml").read_text(encoding="utf-8")
    kept = original.split("\nextensions:")[0]  # the shipped section replaced by the test's
    (pack / "sla.yaml").write_text(kept + "\n" + extensions, encoding="utf-8")
    (tmp_path / "calendar").symlink_to(POLICIES / "calendar")
    return SlaPolicy.load(policy_dir=tmp_path)


def test_the_shipped_pack_caps_one_extension_at_14_days_and_a_case_at_30() -> None:
    assert (POLICY.extension_cap, POLICY.extension_total_cap) == (14 * DAY, 30 * DAY)


@pytest.mark.parametrize(
    ("section", "says"),
    [
        ("extensions: {max_each: 10wd}\n", "use h or d"),
        ("extensions: {max_each: 40d, max_total: 30d}\n", "longer than `max_total`"),
        ("extensions: {max_days: 3d}\n", "`max_each` and `max_total`"),
        ("extensions: [14d]\n", "`max_each` and `max_total`"),
        ("extensions: {max_total: 400d}\n", "longer than 366 days"),
    ],
)
def test_a_bad_extensions_section_is_refused_at_load(
    tmp_path: Path, section: str, says: str
) -> None:
    with pytest.raises(PolicyError, match="extensions") as refused:
        policy_with(tmp_path, section)
    assert says in str(refused.value)


def test_caps_in_hours_load_as_natural_time(tmp_path: Path) -> None:
    loaded = policy_with(tmp_path, "extensions: {max_each: 48h, max_total: 5d}\n")
    assert (loaded.extension_cap, loaded.extension_total_cap) == (2 * DAY, 5 * DAY)


@pytest.fixture
async def case(rig: Rig) -> Rig:
    await rig.classified(classified(complainant_key=KEY))
    await act(rig, action(A.ASSIGNED, at(0.5), assignee="handler-7"))
    rig.publisher.events.clear()
    return rig


def refusals(rig: Rig) -> list[str]:
    return [e.data.reason for e in rig.publisher.of(CaseActionRejected)]


async def test_2160_working_hours_are_refused_they_would_move_the_due_most_of_a_year(
    case: Rig,
) -> None:
    before = entry(case, "resolution:1").due_at
    await act(case, action(A.DEADLINE_EXTENDED, at(1), **extend(ClockName.RESOLUTION, 2160)))
    assert refusals(case) == ["extension_too_long"]
    assert entry(case, "resolution:1").due_at == before
    [refused] = case.publisher.of(CaseActionRejected)
    assert "at most 336 h (natural time)" in refused.data.detail


async def test_extensions_add_up_to_the_case_cap_and_no_further(case: Rig) -> None:
    before = entry(case, "outer_limit:1").due_at
    for n in range(3):  # 13 days each: 13, 26, then 39 > 30
        taken = extend(ClockName.OUTER_LIMIT, 13 * 24)
        await act(case, action(A.DEADLINE_EXTENDED, at(1 + n), action_id=f"x-{n}", **taken))
    assert refusals(case) == ["extensions_exhausted"]
    assert entry(case, "outer_limit:1").due_at == before + 26 * DAY
    assert case.memory.records[CID].case.extended_total == 26 * DAY
    small = extend(ClockName.OUTER_LIMIT, 4 * 24)  # what is left fits
    await act(case, action(A.DEADLINE_EXTENDED, at(5), action_id="x-4", **small))
    assert entry(case, "outer_limit:1").due_at == before + 30 * DAY


async def test_two_extensions_sent_at_once_cannot_both_pass_the_consumer(case: Rig) -> None:
    first = action(
        A.DEADLINE_EXTENDED, at(1), action_id="y-1", **extend(ClockName.OUTER_LIMIT, 300)
    )
    second = action(
        A.DEADLINE_EXTENDED, at(1), action_id="y-2", **extend(ClockName.OUTER_LIMIT, 300)
    )
    third = action(
        A.DEADLINE_EXTENDED, at(1), action_id="y-3", **extend(ClockName.OUTER_LIMIT, 300)
    )
    await act(case, first, second, third)  # 12.5 days each: the third would make 37.5
    assert refusals(case) == ["extensions_exhausted"]
    assert case.memory.records[CID].case.extended_total == 25 * DAY


async def test_the_case_api_answers_409_with_the_cap_before_publishing(rig: Rig) -> None:
    async with case_api(rig) as api:
        await api.act(A.ASSIGNED, assignee="handler-7")
        answer = await api.post(
            A.DEADLINE_EXTENDED, role=Role.MANAGER, **extend(ClockName.OUTER_LIMIT, 15 * 24)
        )
        assert (answer.status_code, answer.json()["reason"]) == (409, "extension_too_long")
        assert "at most 336 h" in answer.json()["detail"]
        before = len(api.published)
        fits = await api.post(
            A.DEADLINE_EXTENDED, role=Role.MANAGER, **extend(ClockName.OUTER_LIMIT, 14 * 24)
        )
        assert fits.status_code == 202
        assert len(api.published) == before + 1
