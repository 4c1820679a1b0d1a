"""Fuzzing: `process_raw` returns a verdict for any bytes and never raises."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.domain import Accepted, IntakeLimits, Rejected, process_raw
from intake.domain.formats import READERS

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
_JSON = st.recursive(
    _SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
_FIELDS = [
    "channel",
    "text",
    "external_id",
    "received_at",
    "complainant",
    "format",
    "note",
    "body",
    "sender",
    "timestamp",
    "message",
    "message_base64",
    "referring_body",
    "deadline",
    "deadline_days",
    "content",
    "summary",
    "mode",
    "fields",
    "phone",
    "referral",
]
_FIELD_VALUES = st.one_of(
    _JSON,
    st.sampled_from([*READERS, "sms", "hotline", "regulator", "Walk-In", "2026-11-24 10:00"]),
    st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    st.dictionaries(st.sampled_from(["phone", "name", "tier", "$ne", "a.b"]), _SCALARS),
)
_MESSAGES = st.dictionaries(st.sampled_from(_FIELDS), _FIELD_VALUES, max_size=8)


def _check(result: Accepted | Rejected) -> None:
    if isinstance(result, Rejected):
        # The catch-all guards exist for safety; reaching them means a reader has a bug.
        assert "could not be read" not in result.detail
        assert "unreadable e-mail" not in result.detail
        return
    complaint = result.complaint
    assert complaint.text.strip()
    assert not _MOBILE.search(complaint.text)
    assert not _MOBILE.search(complaint.text_simplified)
    complaint.model_dump_json()  # must serialise: no lone surrogates reach the event


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_any_bytes(payload: bytes) -> None:
    _check(process_raw(payload, now=NOW, secret=b"k"))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(_JSON)
def test_any_json_document(document: Any) -> None:
    _check(process_raw(json.dumps(document).encode(), now=NOW, secret=b"k"))


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(_MESSAGES, st.booleans())
def test_messages_shaped_like_the_formats(message: dict[str, Any], ascii_only: bool) -> None:
    payload = json.dumps(message, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    _check(process_raw(payload, now=NOW, secret=b"k", limits=IntakeLimits(max_depth=3)))


@settings(max_examples=200)
@given(st.text(max_size=200), st.sampled_from(["sms", "web", "hotline", "letter"]))
def test_any_text_on_a_valid_message(text: str, channel: str) -> None:
    payload = json.dumps({"channel": channel, "text": text}).encode()
    _check(process_raw(payload, now=NOW, secret=b"k"))


@settings(max_examples=150)
@given(st.binary(max_size=400))
def test_any_bytes_as_an_email(raw: bytes) -> None:
    payload = json.dumps({"format": "email", "message_base64": base64.b64encode(raw).decode()})
    _check(process_raw(payload.encode(), now=NOW, secret=b"k"))
