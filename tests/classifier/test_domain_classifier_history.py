"""Repeat, hot-issue and mass-incident windows from history (DOMAIN.md §4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from classifier.domain import (
    Classifier,
    ClassifierInput,
    Decision,
    History,
    PriorComplaint,
    area_of,
)
from contracts import Channel, FlagName, Severity

POLICIES = Path(__file__).resolve().parents[2] / "policies"
NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
ME = "ck_" + "a" * 32
NETWORK_TEXT = "阳光花园小区的宽带从今天早上开始全部断网，光猫亮红灯，请尽快抢修。"


def case_id(number: int) -> str:
    """A valid case number."""
    return f"CP20261124-{number:010d}"


def prior(
    number: int, *, ago: timedelta, key: str | None, category: str, area: str | None
) -> PriorComplaint:
    """An earlier complaint received `ago` before NOW."""
    return PriorComplaint(case_id(number), key, category, NOW - ago, area)


def classify(telecom: Classifier, text: str, history: History) -> Decision:
    """Classify with history for complainant ME."""
    item = ClassifierInput(text, Channel.HOTLINE, complainant_key=ME)
    return telecom.classify(item, received_at=NOW, history=history)


def test_history_windows_come_from_the_pack(telecom: Classifier) -> None:
    windows = telecom.history_windows
    assert windows.repeat_days == 90
    assert windows.hot_issue_days == 30
    assert windows.hot_issue_min_complainants == 3
    assert windows.mass_incident_minutes == 30
    assert windows.mass_incident_min_complaints == 20


@pytest.mark.parametrize(("days", "repeat"), [(1, True), (89, True), (90, True), (91, False)])
def test_repeat_needs_same_category_within_window(
    telecom: Classifier, days: int, repeat: bool
) -> None:
    earlier = prior(1, ago=timedelta(days=days), key=ME, category="network/slow_data", area=None)
    decision = classify(telecom, NETWORK_TEXT, History(same_complainant=(earlier,)))
    flag = next((f for f in decision.flags if f.name is FlagName.REPEAT), None)
    assert (flag is not None) is repeat
    if flag is not None:
        assert flag.count == 2
        assert flag.related == [case_id(1)]
        assert decision.severity is not None
        assert decision.severity.rank <= Severity.P3.rank


def test_repeat_ignores_other_categories(telecom: Classifier) -> None:
    earlier = prior(1, ago=timedelta(days=3), key=ME, category="billing", area=None)
    decision = classify(telecom, NETWORK_TEXT, History(same_complainant=(earlier,)))
    assert not decision.has_flag(FlagName.REPEAT)


def others(
    count: int, *, ago: timedelta, area: str | None, distinct: bool = True
) -> tuple[PriorComplaint, ...]:
    """`count` complaints from other people about the network in `area`."""
    return tuple(
        prior(
            100 + i,
            ago=ago,
            key=f"ck_{i:032x}" if distinct else "ck_" + "b" * 32,
            category="network",
            area=area,
        )
        for i in range(count)
    )


@pytest.mark.parametrize(("people", "hot"), [(1, False), (2, True), (5, True)])
def test_hot_issue_needs_three_distinct_complainants_in_the_same_area(
    telecom: Classifier, people: int, hot: bool
) -> None:
    area = area_of(NETWORK_TEXT)
    assert area == "阳光花园小区"
    recent = others(people, ago=timedelta(days=10), area=area)
    decision = classify(telecom, NETWORK_TEXT, History(same_category_recent=recent))
    assert decision.has_flag(FlagName.HOT_ISSUE) is hot
    if hot:
        assert decision.severity is Severity.P2


def test_hot_issue_does_not_count_one_person_twice_or_old_or_elsewhere(
    telecom: Classifier,
) -> None:
    area = area_of(NETWORK_TEXT)
    same_person = others(4, ago=timedelta(days=2), area=area, distinct=False)
    old = others(4, ago=timedelta(days=31), area=area)
    elsewhere = others(4, ago=timedelta(days=2), area="幸福里小区")
    for recent in (same_person, old, elsewhere):
        decision = classify(telecom, NETWORK_TEXT, History(same_category_recent=recent))
        assert not decision.has_flag(FlagName.HOT_ISSUE)


def test_hot_issue_counts_complainants_received_later_but_decided_first(
    telecom: Classifier,
) -> None:
    """Partitions and redelivery decide out of receipt order: the complaint decided when the
    third person is counted carries the flag, whichever was received last."""
    area = area_of(NETWORK_TEXT)
    later = prior(1, ago=-timedelta(days=2), key="ck_" + "c" * 32, category="network", area=area)
    earlier = prior(2, ago=timedelta(days=5), key="ck_" + "d" * 32, category="network", area=area)
    decision = classify(telecom, NETWORK_TEXT, History(same_category_recent=(later, earlier)))
    flag = next(f for f in decision.flags if f.name is FlagName.HOT_ISSUE)
    assert flag.count == 3
    assert set(flag.related) == {case_id(1), case_id(2)}
    alone = classify(telecom, NETWORK_TEXT, History(same_category_recent=(later,)))
    assert not alone.has_flag(FlagName.HOT_ISSUE)


def test_hot_issue_window_spans_thirty_days_not_thirty_each_side(telecom: Classifier) -> None:
    area = area_of(NETWORK_TEXT)
    before = prior(1, ago=timedelta(days=20), key="ck_" + "c" * 32, category="network", area=area)
    after = prior(2, ago=-timedelta(days=20), key="ck_" + "d" * 32, category="network", area=area)
    decision = classify(telecom, NETWORK_TEXT, History(same_category_recent=(before, after)))
    assert not decision.has_flag(FlagName.HOT_ISSUE)  # 40 days from first to last


@pytest.mark.parametrize(("count", "incident"), [(18, False), (19, True), (40, True)])
def test_mass_incident_needs_twenty_complaints_within_thirty_minutes(
    telecom: Classifier, count: int, incident: bool
) -> None:
    area = area_of(NETWORK_TEXT)
    burst = others(count, ago=timedelta(minutes=12), area=area)
    decision = classify(telecom, NETWORK_TEXT, History(same_category_recent=burst))
    assert decision.has_flag(FlagName.MASS_INCIDENT) is incident
    assert (decision.incident_key is not None) is incident
    if incident:
        assert decision.incident_key == f"network|{area}|20261124T0918+0000"
        assert decision.severity is Severity.P2


def test_complaints_older_than_the_incident_window_do_not_make_an_incident(
    telecom: Classifier,
) -> None:
    burst = others(30, ago=timedelta(minutes=31), area=area_of(NETWORK_TEXT))
    decision = classify(telecom, NETWORK_TEXT, History(same_category_recent=burst))
    assert not decision.has_flag(FlagName.MASS_INCIDENT)
    assert decision.has_flag(FlagName.HOT_ISSUE)


def test_area_of_finds_no_place_in_placeless_text() -> None:
    assert area_of("网速慢得像蜗牛") is None
    assert area_of("XX小區的寬帶斷了") == area_of("XX小区的宽带断了") == "xx小区"


def test_a_large_burst_keeps_every_member_though_the_flag_lists_only_a_few(
    telecom: Classifier,
) -> None:
    area = area_of(NETWORK_TEXT)
    burst = others(80, ago=timedelta(minutes=12), area=area)
    decision = classify(telecom, NETWORK_TEXT, History(same_category_recent=burst))
    [flag] = [f for f in decision.flags if f.name is FlagName.MASS_INCIDENT]
    assert len(flag.related) < len(burst)
    assert sorted(decision.incident_members) == sorted(p.complaint_id for p in burst)
