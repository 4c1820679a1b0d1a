"""Receipt times: the spellings channels use, Shanghai by default, UTC out."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intake.domain import Accepted, IntakeLimits, Rejected, RejectReason, process_raw
from intake.domain.timestamps import TimestampError, local_display, parse_time

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
EXPECTED = datetime(2026, 11, 24, 7, 30, tzinfo=UTC)  # 15:30 in Shanghai


@pytest.mark.parametrize(
    "spelling",
    [
        "2026-11-24T15:30:00+08:00",
        "2026-11-24T07:30:00Z",
        "2026-11-24 15:30:00",
        "2026-11-24T15:30",
        "2026/11/24 15:30",
        "2026.11.24 15:30:00",
        "20261124153000",
        "2026年11月24日 15:30",
        "2026年11月24日15时30分",
        int(EXPECTED.timestamp()),
        int(EXPECTED.timestamp() * 1000),
        str(int(EXPECTED.timestamp())),
    ],
)
def test_spellings_of_one_instant(spelling: object) -> None:
    assert parse_time(spelling) == EXPECTED


@pytest.mark.parametrize("bad", ["", "yesterday", "2026-13-01", True, None, [], 1e30, "9" * 80])
def test_unreadable_times(bad: object) -> None:
    with pytest.raises(TimestampError):
        parse_time(bad)


# Fixed offsets: a zone's DST gap makes times that do not exist, which no parser can keep.
_OFFSETS = st.integers(min_value=-1439, max_value=1439).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@given(st.datetimes(timezones=_OFFSETS))
def test_aware_iso_round_trips(moment: datetime) -> None:
    assert parse_time(moment.isoformat()) == moment


def test_local_display_is_shanghai() -> None:
    assert local_display(EXPECTED) == "2026-11-24T15:30:00+08:00"


def test_non_utc_now_still_gives_utc_receipt() -> None:
    now = NOW.astimezone(timezone(timedelta(hours=8)))
    result = process_raw(b'{"channel": "sms", "text": "x"}', now=now, secret=b"k")
    assert isinstance(result, Accepted)
    assert result.complaint.received_at == NOW
    assert result.complaint.received_at.utcoffset() == timedelta(0)


def test_future_tolerance_is_a_limit() -> None:
    ahead = (NOW + timedelta(minutes=5)).isoformat()
    payload = json.dumps({"channel": "sms", "text": "x", "received_at": ahead}).encode()
    assert isinstance(process_raw(payload, now=NOW, secret=b"k"), Accepted)
    strict = IntakeLimits(future_tolerance=timedelta(minutes=1))
    result = process_raw(payload, now=NOW, secret=b"k", limits=strict)
    assert isinstance(result, Rejected)
    assert result.reason is RejectReason.FUTURE_TIMESTAMP


@pytest.mark.parametrize("date", ["Fri, 01 Jan 2100 00:00:00 +0000", "not a date"])
def test_email_with_a_wrong_client_clock_is_received_now(date: str) -> None:
    message = EmailMessage()
    message["Subject"] = "投诉"
    message["Date"] = date
    message.set_content("网速慢")
    wrapper = {"format": "email", "message": message.as_string()}
    result = process_raw(json.dumps(wrapper).encode(), now=NOW, secret=b"k")
    assert isinstance(result, Accepted)
    assert result.complaint.received_at == NOW


def test_referral_deadline_days_must_be_plausible() -> None:
    message = {"format": "referral", "referring_body": "工信部", "text": "x", "deadline_days": 0}
    result = process_raw(json.dumps(message).encode(), now=NOW, secret=b"k")
    assert isinstance(result, Rejected)
    assert result.reason is RejectReason.BAD_TIMESTAMP
