"""`complaints sla deadlines`: clock → due time with the +08:00 offset."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from complaints_cli.sla_cmd import deadlines_command

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
    with pytest.raises(ValueError, match=r"P1\.\.P4"):
        deadlines_command(
            received="2026-03-10T10:00", severity="P9", channel="web", policy_dir=POLICIES
        )
