"""`complaints sla deadlines`: clock → due time with the +08:00 offset."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from sla.tools.deadlines import DeadlinesError, deadlines_command

POLICIES = Path(__file__).resolve().parents[2] / "policies"


def test_naive_input_is_shanghai_time() -> None:
    naive = deadlines_command(
        received="2026-12-30T15:00", severity="P4", channel="hotline", policy_dir=POLICIES
    )
    aware = deadlines_command(
        received="2026-12-30T07:00:00+00:00", severity="P4", channel="hotline", policy_dir=POLICIES
    )
    assert naive == aware
    assert naive["resolution"] == "2027-01-05T18:00:00+08:00"
    assert naive["acknowledge"] == "2026-12-30T16:00:00+08:00"
    assert all(value.endswith("+08:00") for value in naive.values())
    assert all(datetime.fromisoformat(value) for value in naive.values())


def test_regulator_channel_and_repeating_clock() -> None:
    got = deadlines_command(
        received="2026-03-10T10:00:00+08:00",
        severity="p1",
        channel="regulator",
        policy_dir=POLICIES,
    )
    assert got["regulator_reply"] == "2026-03-25T10:00:00+08:00"
    assert got["progress_update"] == "2026-03-11T10:00:00+08:00"  # first occurrence
    assert "callback" not in got


def test_property_pack() -> None:
    got = deadlines_command(
        received="2026-03-10T10:00",
        severity="P3",
        channel="web",
        policy_dir=POLICIES,
        pack="property",
    )
    assert got["resolution"] == "2026-03-13T10:00:00+08:00"
    assert got["dispatch"] == "2026-03-10T10:30:00+08:00"


def test_bad_severity_is_a_clear_error() -> None:
    with pytest.raises(DeadlinesError, match=r"P1, P2, P3, P4"):
        deadlines_command(
            received="2026-03-10T10:00", severity="P9", channel="web", policy_dir=POLICIES
        )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"pack": "insurance"}, r"unknown pack 'insurance': one of bank, hospital, hotel"),
        ({"channel": "pigeon"}, r"unknown channel 'pigeon': one of hotline, sms"),
        ({"category": "weather"}, r"unknown category 'weather' in pack 'telecom'"),
        ({"received": "yesterday"}, r"--received 'yesterday' is not an ISO 8601"),
        ({"resolved": "soon"}, r"--resolved 'soon' is not an ISO 8601"),
    ],
)
def test_unknown_input_is_one_line_not_a_traceback(change: dict[str, str], message: str) -> None:
    args = {"received": "2026-11-20T10:00", "severity": "P4", "channel": "web", **change}
    with pytest.raises(DeadlinesError, match=message) as raised:
        deadlines_command(policy_dir=POLICIES, **args)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("severity", ["P1", "P2", "P3", "P4"])
def test_callback_is_due_within_three_days_of_resolution_with_a_same_day_target(
    severity: str,
) -> None:
    # 001 Art. 53: on the day of resolution, at the latest within 3 days — for every severity.
    got = deadlines_command(
        received="2026-09-28T10:00",
        severity=severity,
        channel="hotline",
        policy_dir=POLICIES,
        resolved="2026-09-30T15:00",
    )
    assert got["callback"] == "2026-10-03T15:00:00+08:00"
    assert got["callback.target"] == "2026-10-01T00:00:00+08:00"


def test_first_contact_starts_at_dispatch() -> None:
    # 001: within 2 h of receiving the dispatched complaint; working time for P3 / P4.
    received = {"received": "2026-11-20T09:00", "channel": "web", "policy_dir": POLICIES}
    p3 = deadlines_command(severity="P3", dispatched="2026-11-20T10:00", **received)
    assert p3["first_contact"] == "2026-11-20T12:00:00+08:00"
    late = deadlines_command(severity="P4", dispatched="2026-11-20T17:00", **received)
    assert late["first_contact"] == "2026-11-23T10:00:00+08:00"  # 1 h Friday, 1 h Monday
    p1 = deadlines_command(severity="P1", dispatched="2026-11-21T22:00", **received)
    assert p1["first_contact"] == "2026-11-21T23:00:00+08:00"  # natural hours
    assert "first_contact" not in deadlines_command(severity="P3", **received)


def test_bank_general_and_complex_resolution() -> None:
    friday = {"received": "2026-11-20T10:00", "severity": "P4", "channel": "web"}
    general = deadlines_command(policy_dir=POLICIES, pack="bank", **friday)
    assert general["resolution"] == "2026-11-25T17:30:00+08:00"  # Mon, Tue, Wed (T26)
    assert "resolution.target" not in general
    for complex_case in (
        deadlines_command(policy_dir=POLICIES, pack="bank", complex_case=True, **friday),
        deadlines_command(policy_dir=POLICIES, pack="bank", category="product", **friday),
    ):
        # T27: 7-10 working days: 7 the target, 10 the limit.
        assert complex_case["resolution.target"] == "2026-12-01T17:30:00+08:00"
        assert complex_case["resolution"] == "2026-12-04T17:30:00+08:00"


def test_hospital_two_working_days_five_when_complex() -> None:
    friday = {"received": "2026-11-20T10:00", "severity": "P4", "channel": "letter"}
    assert deadlines_command(policy_dir=POLICIES, pack="hospital", **friday)["resolution"] == (
        "2026-11-24T17:30:00+08:00"
    )
    complex_case = deadlines_command(
        policy_dir=POLICIES, pack="hospital", complex_case=True, **friday
    )
    assert complex_case["resolution"] == "2026-11-27T17:30:00+08:00"


def test_hotel_on_site_within_minutes() -> None:
    got = deadlines_command(
        received="2026-11-21T23:40",  # a Saturday night: a hotel never closes
        severity="P3",
        channel="walk_in",
        policy_dir=POLICIES,
        pack="hotel",
        dispatched="2026-11-21T23:45",
    )
    assert got["first_contact"] == "2026-11-21T23:50:00+08:00"  # T30: on site within 5 minutes
    assert got["acknowledge"] == "2026-11-21T23:50:00+08:00"


def test_property_pack_hands_holiday_complaints_over_the_same_day() -> None:
    got = deadlines_command(
        received="2026-10-03T10:00",
        severity="P4",
        channel="web",
        policy_dir=POLICIES,
        pack="property",
    )
    assert got["dispatch"] == "2026-10-04T00:00:00+08:00"  # T09: the same day
    assert got["dispatch"] < got["resolution"]


def test_a_provisional_year_is_named_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    got = deadlines_command(
        received="2026-12-28T10:00", severity="P4", channel="web", policy_dir=POLICIES
    )
    assert got["outer_limit"] == "2027-01-12T10:00:00+08:00"  # MIIT: 15 days, whatever happens
    assert "2027 use a provisional calendar" in capsys.readouterr().err
    deadlines_command(
        received="2026-03-10T10:00", severity="P4", channel="web", policy_dir=POLICIES
    )
    assert capsys.readouterr().err == ""


def test_the_cli_runs_the_sla_tool_and_prints_what_it_computes(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """`complaints sla deadlines` runs `python -m sla.tools.deadlines`: same answer, same errors."""
    import json

    from complaints_cli.main import parser

    argv = ["sla", "deadlines", "--received", "2026-12-30T15:00", "--severity", "P4"]
    argv += ["--channel", "hotline", "--dispatched", "2026-12-31T10:00", "--complex"]
    args = parser().parse_args(argv)
    assert args.func(args) == 0
    out = json.loads(capfd.readouterr().out)
    assert out == deadlines_command(
        received="2026-12-30T15:00",
        severity="P4",
        channel="hotline",
        policy_dir=POLICIES,
        dispatched="2026-12-31T10:00",
        complex_case=True,
    )
    capfd.readouterr()  # the in-process call's note on the provisional year
    args = parser().parse_args([*argv[:-5], "--channel", "fax machine"])
    assert args.func(args) == 2
    err = capfd.readouterr().err
    assert err.startswith("complaints sla deadlines: unknown channel 'fax machine'")
    assert "Traceback" not in err
