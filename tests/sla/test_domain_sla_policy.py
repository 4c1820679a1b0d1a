"""Policy packs: the telecom table of DOMAIN.md §5 exactly, the property pack, bad packs refused."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from contracts import Audience, Channel, ClockName, FlagName, Severity
from sla.domain import ClockSpec, Duration, PolicyError, SlaPolicy, parse_duration

POLICIES = Path(__file__).resolve().parents[2] / "policies"
TELECOM = SlaPolicy.load(policy_dir=POLICIES, pack="telecom")
C, P = ClockName, Severity
MIN15, MIN30 = (0.25, "h"), (0.5, "h")

# DOMAIN.md §5, column by column (P1, P2, P3, P4); None = the clock does not run at that level.
TABLE: dict[ClockName, tuple[tuple[float, str] | None, ...]] = {
    C.ACKNOWLEDGE: (MIN15, MIN30, (1, "h"), (1, "h")),
    C.DISPATCH: (MIN30, (1, "h"), (4, "wh"), (4, "wh")),
    C.FIRST_CONTACT: ((1, "h"), (2, "h"), (2, "wh"), (2, "wh")),  # from dispatch
    C.PRELIMINARY_REPLY: ((24, "h"), None, None, None),
    C.PROGRESS_UPDATE: ((24, "h"), (48, "h"), None, None),
    C.RESOLUTION: ((5, "wd"), (3, "wd"), (5, "wd"), (3, "wd")),
    C.CALLBACK: ((3, "d"), (3, "d"), (3, "d"), (3, "d")),  # target: the same day
    C.OUTER_LIMIT: ((15, "d"), (15, "d"), (15, "d"), (15, "d")),
}


@pytest.mark.parametrize("clock", list(TABLE))
@pytest.mark.parametrize("severity", list(Severity))
def test_telecom_clocks_match_the_domain_table(clock: ClockName, severity: Severity) -> None:
    expected = TABLE[clock][severity.rank - 1]
    spec = TELECOM.spec(clock=clock, severity=severity)
    if expected is None:
        assert spec is None
    else:
        assert spec is not None
        assert (spec.amount, spec.unit) == expected
        assert spec.repeat is (clock is C.PROGRESS_UPDATE)


def test_callback_starts_on_resolution_not_at_receipt() -> None:
    for severity in Severity:
        at_receipt = {s.clock for s in TELECOM.clocks_for(severity=severity, channel=Channel.APP)}
        assert C.CALLBACK not in at_receipt
        assert [s.clock for s in TELECOM.clocks_on_resolution(severity=severity)] == [C.CALLBACK]


def test_regulator_channel_gets_the_15_day_reply_and_caps_resolution() -> None:
    specs = TELECOM.clocks_for(severity=P.P4, channel=Channel.REGULATOR)
    assert ClockSpec(C.REGULATOR_REPLY, 15, "d") in specs
    assert TELECOM.caps_for(channel=Channel.REGULATOR, flags=()) == {
        C.RESOLUTION: C.REGULATOR_REPLY
    }
    hotline = TELECOM.clocks_for(severity=P.P4, channel=Channel.HOTLINE)
    assert C.REGULATOR_REPLY not in {s.clock for s in hotline}


def test_warnings_pause_cap_and_upgrades() -> None:
    assert TELECOM.warn_thresholds == (50, 80)
    assert TELECOM.thresholds == (50, 80, 100, 150)
    assert TELECOM.pause_cap == Duration(5, "wd")
    assert [(u.after, u.to) for u in TELECOM.upgrades] == [
        (timedelta(days=7), P.P2),
        (timedelta(days=30), P.P1),
    ]
    assert TELECOM.failed_callback_attempts == 3
    assert TELECOM.calendar is not None
    assert TELECOM.calendar.working_hours[0][0].isoformat() == "09:00:00"


def test_escalation_chain() -> None:
    p1 = TELECOM.audiences(clock=C.DISPATCH, severity=P.P1, flags=())
    p3 = TELECOM.audiences(clock=C.DISPATCH, severity=P.P3, flags=())
    assert Audience.HANDLER in p3[80]
    assert Audience.TEAM_LEAD in p3[100]
    assert Audience.MANAGER in p3[150]
    assert Audience.LEADERSHIP in p1[100]
    assert Audience.LEADERSHIP not in p3[100]
    assert Audience.TEAM_LEAD not in p3[80]
    media = TELECOM.audiences(clock=C.DISPATCH, severity=P.P2, flags=[FlagName.MEDIA])
    safety = TELECOM.audiences(clock=C.DISPATCH, severity=P.P2, flags=[FlagName.SAFETY])
    assert Audience.MEDIA_CONTACT in media[100]
    assert Audience.SECURITY in safety[100]
    assert Audience.SECURITY not in media[100]
    # Only promises made to the customer send them a delay notice.
    assert Audience.CUSTOMER not in p3[100]
    resolution = TELECOM.audiences(clock=C.RESOLUTION, severity=P.P3, flags=())
    assert Audience.CUSTOMER in resolution[100]


def test_property_pack_is_smaller_and_different() -> None:
    prop = SlaPolicy.load(policy_dir=POLICIES, pack="property")
    assert prop.name == "property"
    assert prop.spec(clock=C.RESOLUTION, severity=P.P4) == ClockSpec(C.RESOLUTION, 3, "d")
    assert prop.spec(clock=C.DISPATCH, severity=P.P2) == ClockSpec(
        C.DISPATCH, 0.5, "wh", non_working_day=Duration(0, "sd")
    )
    assert prop.spec(clock=C.ACKNOWLEDGE, severity=P.P1) == ClockSpec(C.ACKNOWLEDGE, 4, "h")
    assert prop.spec(clock=C.FIRST_CONTACT, severity=P.P1) is None
    assert C.REGULATOR_REPLY not in {
        s.clock for s in prop.clocks_for(severity=P.P1, channel=Channel.REGULATOR)
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15min", Duration(0.25, "h")),
        ("4wh", Duration(4, "wh")),
        ("5wd", Duration(5, "wd")),
        ("15d", Duration(15, "d")),
        ("0.5wh", Duration(0.5, "wh")),
    ],
)
def test_parse_duration(text: str, expected: Duration) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "5", "5 weeks", "1.5wd", "0h", "-1h", "h"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(PolicyError):
        parse_duration(text)


def _telecom_data() -> dict[str, Any]:
    data = yaml.safe_load((POLICIES / "telecom" / "sla.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d.pop("version"),
        lambda d: d["clocks"].update(teleport={"P1": "1h"}),
        lambda d: d["clocks"]["resolution"].update(starts="whenever"),
        lambda d: d.update(warnings=[50, 120]),
        lambda d: d["escalation"].append({"at": 100, "notify": ["nobody"]}),
        lambda d: d["upgrades"].append({"after": "3wd", "to": "P1"}),
        lambda d: d["overlays"][0]["when"].update(channels=["carrier_pigeon"]),
    ],
)
def test_malformed_packs_are_policy_errors(breakage: Any) -> None:
    data = _telecom_data()
    breakage(data)
    with pytest.raises(PolicyError):
        SlaPolicy.from_mapping(data, name="broken")


def test_missing_pack_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read"):
        SlaPolicy.load(policy_dir=tmp_path, pack="nothing")
