"""Phone numbers to E.164 (+86 by default), and the contact number an agent wrote in a note."""

from __future__ import annotations

import re

import phonenumbers

_MAX_PHONE_CHARS = 40
_CALLER_CUE = re.compile(
    r"(?:来电号码|來電號碼|主叫号码|主叫號碼|联系电话|聯繫電話|联系方式|聯繫方式|回拨号码|回撥號碼"
    r"|手机号码?|手機號碼?|联系号码|聯繫號碼)[:：为為是\s]*(\+?[\d\- ]{7,20}\d)"
)


def to_e164(raw: str | None) -> str | None:
    """A phone number in E.164, or None when `raw` is not a possible number (China default)."""
    if raw is None:
        return None
    candidate = raw.strip()
    if not candidate or len(candidate) > _MAX_PHONE_CHARS:
        return None
    try:
        parsed = phonenumbers.parse(candidate, "CN")
    except phonenumbers.NumberParseException:
        return None
    # Possible rather than valid: new number ranges appear before the metadata knows them, and
    # the key must stay stable for the same customer either way.
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_from_note(text: str) -> str | None:
    """The number after a cue like 来电号码/联系电话 in an agent's note, if any."""
    match = _CALLER_CUE.search(text)
    return to_e164(match.group(1)) if match else None
