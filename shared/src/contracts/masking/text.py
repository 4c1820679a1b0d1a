"""Free text bound for a topic: phone, ID and card numbers, e-mails, names and house numbers masked.

Intake masks complaint texts with it and the SLA's case API staff notes (issue 20): one rule for
every free text that leaves the service that took it in.
"""

from __future__ import annotations

import re
import unicodedata

from contracts.masking.names import mask_names

# Digits with at most one separator between groups, in every style people type: a space, a
# hyphen or dash of any width (ASCII, ‐ ‑ ‒ – — ―, full-width －), a dot, a slash, the middle dot,
# each with spaces around or not, and a bracketed prefix: 138 1234 5678, 0755-12345678,
# 138.1234.5678, 138/1234/5678, 138—1234—5678, 138 - 1234 - 5678, (138)12345678, （0755）1234567.
_SEP = r"(?:[ \t\u3000]?[\-\u2010-\u2015\uff0d.\uff0e/\uff0f\u00b7\u30fb][ \t\u3000]?|[ \t\u3000])"
_DIGIT_RUN = re.compile(
    rf"(?<![\d.])[(（]?\+?\d(?:(?:[)）][ \u3000]?|{_SEP})?\d)*(?:[Xx](?![A-Za-z]))?"
)
_MOBILE = re.compile(r"1[3-9]\d{9}")
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
_CJK_NUMERAL = "一二三四五六七八九十百千零〇两兩"
_ADDRESS_CUE = re.compile(
    r"(?:住在|家住|居住在|住址[:：是]?|地址[:：是]?|收货地址[:：]?|收貨地址[:：]?)"
    r"([^，。,;；!！?？\n]{1,40})"
)
_ADMIN_UNIT = re.compile(r".*?(?:省|自治区|市|区|區|县|縣|镇|鎮|乡|鄉)")
_ADDRESS_NUMBER = re.compile(rf"\d+|[{_CJK_NUMERAL}]+(?=[号號栋棟幢单單室楼樓层層弄巷])")
_HOUSE_NUMBER = re.compile(
    rf"(?<=[路街道巷弄里村])(?:\d+|[{_CJK_NUMERAL}]+)(?=号|號)"
    r"|\d+(?=号楼|號樓|栋|棟|幢|单元|單元|室|号院|號院)"
    # Chinese numerals only inside an address (after a road, a number or a unit): 同一棟樓 stays.
    rf"|(?<=[路街道巷弄里村号號栋棟幢元])[{_CJK_NUMERAL}]+(?=号楼|號樓|栋|棟|幢|单元|單元|室|号院|號院)"
    r"|(?<![\d\-])\d{1,3}-\d{1,2}-\d{3,4}(?![\d\-])"
)


def _digits_of(run: str) -> str:
    return "".join(str(unicodedata.decimal(char)) for char in run if char.isdecimal())


def _mask_digits(run: str, *, head: int, tail: int) -> str:
    total = sum(1 for char in run if char.isdecimal() or char in "Xx")
    out: list[str] = []
    index = 0
    for char in run:
        if char.isdecimal() or char in "Xx":
            out.append(char if index < head or index >= total - tail else "*")
            index += 1
        else:
            out.append(char)
    return "".join(out)


def _mask_run(match: re.Match[str]) -> str:
    run = match.group(0)
    digits = _digits_of(run)
    if len(digits) == 11 and _MOBILE.fullmatch(digits):
        return _mask_digits(run, head=3, tail=4)
    if len(digits) == 13 and digits.startswith("86") and _MOBILE.fullmatch(digits[2:]):
        return _mask_digits(run, head=5, tail=4)
    if digits.startswith("0") and 10 <= len(digits) <= 12:
        return _mask_digits(run, head=4, tail=2)
    if _MOBILE.search(digits) or len(digits) >= 15 or run[-1] in "Xx":
        return _mask_digits(run, head=0, tail=4)
    return run


def _mask_email_match(match: re.Match[str]) -> str:
    return mask_email(match.group(0))


def mask_email(address: str) -> str:
    """zhangsan@example.com → z***@example.com."""
    local, _, domain = address.partition("@")
    return (local[:1] or "*") + "***@" + domain


def _mask_address_match(match: re.Match[str]) -> str:
    whole, span = match.group(0), match.group(1)
    cue = whole[: len(whole) - len(span)]
    area = _ADMIN_UNIT.match(span)
    # Keep the district so hot-issue and mass-incident detection still see the area; hide
    # every number after it (street, building, unit and room numbers).
    kept = area.group(0) if area else ""
    detail = span[len(kept) :]
    return cue + kept + _ADDRESS_NUMBER.sub(_stars, detail)


def _stars(match: re.Match[str]) -> str:
    return "*" * len(match.group(0))


def mask_text(text: str) -> str:
    """Mask phone, ID and card numbers, e-mail addresses, names and house numbers in text."""
    text = _EMAIL.sub(_mask_email_match, text)
    text = mask_names(text)
    text = _ADDRESS_CUE.sub(_mask_address_match, text)
    text = _HOUSE_NUMBER.sub(_stars, text)
    return _DIGIT_RUN.sub(_mask_run, text)
