"""How far back a receipt time may lie: 72 hours, more only for channels that arrive late."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from intake.domain import Accepted, Rejected, process_raw
from intake.domain.results import LATE_CHANNELS, IntakeLimits

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def submit(channel: str, back: timedelta, limits: IntakeLimits | None = None) -> object:
    message = {
        "channel": channel,
        "text": "宽带断网三天了",
        "received_at": (NOW - back).isoformat(),
    }
    raw = json.dumps(message, ensure_ascii=False).encode()
    return process_raw(raw, now=NOW, secret=b"k", limits=limits or IntakeLimits())


@pytest.mark.parametrize("channel", ["web", "sms", "app", "hotline", "email"])
def test_a_receipt_more_than_72_hours_back_is_refused_on_ordinary_channels(channel: str) -> None:
    assert isinstance(submit(channel, timedelta(hours=71)), Accepted)
    refused = submit(channel, timedelta(hours=73))
    assert isinstance(refused, Rejected)
    assert refused.reason.value == "bad_timestamp"
    assert "72 h" in refused.detail


def test_a_year_back_is_refused_over_http_as_the_issue_found() -> None:
    assert isinstance(submit("web", timedelta(days=366)), Rejected)


@pytest.mark.parametrize("channel", sorted(LATE_CHANNELS))
def test_late_channels_have_their_own_allowance_and_a_reason(channel: str) -> None:
    allowance, reason = LATE_CHANNELS[channel]
    assert reason
    assert isinstance(submit(channel, allowance - timedelta(hours=1)), Accepted)
    assert isinstance(submit(channel, allowance + timedelta(hours=1)), Rejected)


def test_the_allowance_is_a_setting() -> None:
    limits = IntakeLimits(receipt_allowance=timedelta(hours=6))
    assert isinstance(submit("web", timedelta(hours=7), limits), Rejected)
    assert isinstance(submit("web", timedelta(hours=5), limits), Accepted)
