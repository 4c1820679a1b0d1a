"""Complainants with repeated baseless or any malicious verdict are flagged for human review."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from contracts import Verdict
from sla.domain import complainant_review_needed

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 24, 10, tzinfo=SH)


def days_ago(n: float) -> datetime:
    return NOW - timedelta(days=n)


def test_three_baseless_within_365_days() -> None:
    verdicts = [
        (days_ago(300), Verdict.BASELESS),
        (days_ago(100), Verdict.BASELESS),
        (days_ago(1), Verdict.BASELESS),
    ]
    reason = complainant_review_needed(verdicts=verdicts, now=NOW)
    assert reason is not None
    assert reason.startswith("repeated_baseless")


def test_baseless_spread_over_more_than_a_year_is_not_flagged() -> None:
    verdicts = [
        (days_ago(400), Verdict.BASELESS),
        (days_ago(100), Verdict.BASELESS),
        (days_ago(1), Verdict.BASELESS),
    ]
    assert complainant_review_needed(verdicts=verdicts, now=NOW) is None


def test_one_malicious_verdict_is_enough() -> None:
    reason = complainant_review_needed(verdicts=[(days_ago(3), Verdict.MALICIOUS)], now=NOW)
    assert reason is not None
    assert reason.startswith("malicious_verdict")


def test_upheld_and_future_verdicts_never_count() -> None:
    verdicts = [(days_ago(i), Verdict.UPHELD) for i in range(10)]
    verdicts += [
        (days_ago(5), Verdict.PARTLY_UPHELD),
        (days_ago(2), Verdict.BASELESS),
        (days_ago(1), Verdict.BASELESS),
        (NOW + timedelta(days=1), Verdict.BASELESS),
        (NOW + timedelta(days=2), Verdict.MALICIOUS),
    ]
    assert complainant_review_needed(verdicts=verdicts, now=NOW) is None


@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=800, allow_nan=False),
            st.sampled_from([Verdict.UPHELD, Verdict.PARTLY_UPHELD, Verdict.BASELESS]),
        ),
        max_size=12,
    )
)
def test_flag_iff_three_baseless_in_the_window(items: list[tuple[float, Verdict]]) -> None:
    verdicts = [(days_ago(age), verdict) for age, verdict in items]
    recent = sum(1 for age, v in items if v is Verdict.BASELESS and age < 365)
    flagged = complainant_review_needed(verdicts=verdicts, now=NOW) is not None
    assert flagged is (recent >= 3)
