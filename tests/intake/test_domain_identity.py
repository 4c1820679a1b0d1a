"""Complaint ids, complainant keys and near-duplicate fingerprints."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from intake.domain import (
    Accepted,
    complainant_key_for,
    complaint_id_for,
    fingerprint,
    is_near_duplicate,
    process_raw,
)

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
ID_PATTERN = re.compile(r"^CP[0-9]{8}-[0-9A-Z]{10}$")
KEY_PATTERN = re.compile(r"^ck_[0-9a-f]{32}$")


def _accept(message: dict[str, object], secret: bytes = b"k") -> Accepted:
    result = process_raw(json.dumps(message, ensure_ascii=False).encode(), now=NOW, secret=secret)
    assert isinstance(result, Accepted), result
    return result


@given(
    channel=st.sampled_from(["sms", "hotline", "email"]),
    external_id=st.none() | st.text(max_size=30),
    payload=st.binary(max_size=64),
    # Hypothesis takes naive bounds and attaches the zone itself.
    received_at=st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001
        max_value=datetime(2099, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
)
def test_complaint_id_matches_the_contract_pattern(
    channel: str, external_id: str | None, payload: bytes, received_at: datetime
) -> None:
    complaint_id = complaint_id_for(
        channel=channel, external_id=external_id, payload=payload, received_at=received_at
    )
    assert ID_PATTERN.fullmatch(complaint_id)
    assert complaint_id == complaint_id_for(
        channel=channel, external_id=external_id, payload=payload, received_at=received_at
    )


def test_complaint_id_uses_the_shanghai_date() -> None:
    late_utc = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
    assert complaint_id_for(
        channel="sms", external_id="1", payload=b"", received_at=late_utc
    ).startswith("CP20261124-")


def test_external_id_not_payload_decides_the_id() -> None:
    first = complaint_id_for(channel="sms", external_id="M1", payload=b"a", received_at=NOW)
    again = complaint_id_for(channel="sms", external_id="M1", payload=b"b", received_at=NOW)
    other = complaint_id_for(channel="sms", external_id="M2", payload=b"a", received_at=NOW)
    other_channel = complaint_id_for(channel="web", external_id="M1", payload=b"a", received_at=NOW)
    assert first == again
    assert len({first, other, other_channel}) == 3
    no_id_a = complaint_id_for(channel="sms", external_id=None, payload=b"a", received_at=NOW)
    no_id_b = complaint_id_for(channel="sms", external_id=None, payload=b"b", received_at=NOW)
    assert no_id_a != no_id_b


def test_same_channel_and_external_id_twice_is_one_complaint() -> None:
    first = _accept({"channel": "sms", "external_id": "M1", "text": "乱扣费"})
    second = _accept({"channel": "SMS", "external_id": "M1", "text": "乱扣费了", "retry": 2})
    assert first.complaint.complaint_id == second.complaint.complaint_id


@given(phone=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), customer=st.text(min_size=1))
def test_complainant_key_prefers_the_phone(phone: str, customer: str) -> None:
    e164 = f"+86{phone}"
    key = complainant_key_for(phone_e164=e164, customer_id=customer, secret=b"s")
    assert key is not None
    assert KEY_PATTERN.fullmatch(key)
    assert key == complainant_key_for(phone_e164=e164, customer_id=None, secret=b"s")
    assert key != complainant_key_for(phone_e164=e164, customer_id=None, secret=b"t")


def test_complainant_key_without_identifiers_is_none() -> None:
    assert complainant_key_for(phone_e164=None, customer_id=None, secret=b"s") is None
    assert complainant_key_for(phone_e164=None, customer_id="  ", secret=b"s") is None
    by_customer = complainant_key_for(phone_e164=None, customer_id="C-1", secret=b"s")
    assert by_customer is not None
    assert KEY_PATTERN.fullmatch(by_customer)


def test_phone_spellings_give_one_key() -> None:
    keys = {
        _accept(
            {"channel": "sms", "text": "x", "complainant": {"phone": phone}}
        ).complaint.complainant_key
        for phone in (
            "13812345678",
            "+86 138 1234 5678",
            "138-1234-5678",
            "８６１３８１２３４５６７８",
        )
    }
    assert len(keys) == 1
    assert None not in keys


_BASE = "我上个月根本没有办理这个流量包，但是话费账单上每个月都多扣了三十元，打客服电话也没人处理"


@settings(max_examples=50)
@given(st.lists(st.integers(min_value=0, max_value=len(_BASE) - 1), max_size=2, unique=True))
def test_small_edits_are_near_duplicates(positions: list[int]) -> None:
    edited = list(_BASE)
    for position in sorted(positions, reverse=True):
        del edited[position]
    assert is_near_duplicate(fingerprint(_BASE), fingerprint("".join(edited) + "！！"))


def test_different_complaints_are_not_near_duplicates() -> None:
    other = "家里宽带已经断网三天了，报修之后一直没有师傅上门，严重影响孩子上网课，要求赔偿"
    assert not is_near_duplicate(fingerprint(_BASE), fingerprint(other))


def test_same_complainant_near_identical_text_is_detectable() -> None:
    first = _accept({"channel": "sms", "text": _BASE, "complainant": {"phone": "13812345678"}})
    second = _accept(
        {"channel": "sms", "text": _BASE + "。", "complainant": {"phone": "+8613812345678"}}
    )
    assert first.complaint.complaint_id != second.complaint.complaint_id
    assert first.complaint.complainant_key == second.complaint.complainant_key
    assert is_near_duplicate(first.fingerprint, second.fingerprint)


def test_traditional_and_simplified_spellings_fingerprint_alike() -> None:
    simplified = _accept({"channel": "sms", "text": "营业厅经理态度恶劣，拒绝为我办理业务"})
    traditional = _accept({"channel": "sms", "text": "營業廳經理態度惡劣，拒絕為我辦理業務"})
    assert is_near_duplicate(simplified.fingerprint, traditional.fingerprint)


def test_malformed_fingerprints_are_never_duplicates() -> None:
    assert not is_near_duplicate("sh1:zz", fingerprint("x"))
    assert not is_near_duplicate("", "")
    assert is_near_duplicate(fingerprint("x"), fingerprint("x"))


def test_received_date_follows_the_submitted_time() -> None:
    yesterday = (NOW - timedelta(days=1)).isoformat()
    result = _accept({"channel": "sms", "text": "x", "received_at": yesterday})
    assert result.complaint.complaint_id.startswith("CP20261123-")
