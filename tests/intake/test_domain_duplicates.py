"""Duplicate detection: same complainant, near-identical text, within the window."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from intake.domain import (
    DUPLICATE_WINDOW,
    Accepted,
    EarlierComplaint,
    as_duplicate,
    find_original,
    process_raw,
)

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
TEXT = "我上个月根本没有办理这个流量包，但是话费账单上每个月都多扣了三十元，打客服电话也没人处理"


def _accept(text: str, *, phone: str | None = "13812345678", at: datetime = NOW) -> Accepted:
    message = {
        "channel": "letter",  # letters may be dated back 30 days (outside the window)
        "text": text,
        "received_at": at.isoformat(),
        "complainant": {"phone": phone},
    }
    result = process_raw(json.dumps(message, ensure_ascii=False).encode(), now=NOW, secret=b"k")
    assert isinstance(result, Accepted), result
    return result


def _earlier(accepted: Accepted) -> EarlierComplaint:
    complaint = accepted.complaint
    assert complaint.complainant_key is not None
    return EarlierComplaint(
        complaint_id=complaint.complaint_id,
        complainant_key=complaint.complainant_key,
        received_at=complaint.received_at,
        fingerprint=accepted.fingerprint,
    )


def test_resent_text_links_to_the_first_complaint() -> None:
    first = _accept(TEXT, at=NOW - timedelta(hours=30))
    second = _accept(TEXT + "！", at=NOW - timedelta(hours=2))
    third = _accept(TEXT + "？？", at=NOW)
    found = find_original(accepted=third, earlier=[_earlier(second), _earlier(first)])
    assert found == first.complaint.complaint_id
    marked = as_duplicate(third, original_id=found)
    assert marked.complaint.duplicate_of == first.complaint.complaint_id
    assert marked.complaint.complaint_id == third.complaint.complaint_id


def test_outside_the_window_or_another_complainant_is_not_a_duplicate() -> None:
    old = _accept(TEXT, at=NOW - DUPLICATE_WINDOW - timedelta(minutes=1))
    stranger = _accept(TEXT, phone="13900001111", at=NOW - timedelta(hours=1))
    current = _accept(TEXT + "。", at=NOW)
    assert find_original(accepted=current, earlier=[_earlier(old), _earlier(stranger)]) is None


def test_different_text_or_no_key_is_not_a_duplicate() -> None:
    earlier = _accept(TEXT, at=NOW - timedelta(hours=1))
    other = _accept("家里宽带已经断网三天了，报修之后一直没有师傅上门，要求赔偿", at=NOW)
    anonymous = _accept(TEXT, phone=None, at=NOW)
    assert find_original(accepted=other, earlier=[_earlier(earlier)]) is None
    assert find_original(accepted=anonymous, earlier=[_earlier(earlier)]) is None


def test_the_same_complaint_redelivered_is_not_its_own_duplicate() -> None:
    first = _accept(TEXT, at=NOW)
    assert find_original(accepted=first, earlier=[_earlier(first)]) is None
