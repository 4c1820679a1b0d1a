"""Masking free staff text bound for a broad topic: no phone, ID or card numbers, no e-mails."""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_NUMBER = re.compile(r"\d(?:[ -]?\d){6,}")


def _hide_email(match: re.Match[str]) -> str:
    return match.group(0)[0] + "***@" + match.group(0).partition("@")[2]


def _hide_number(match: re.Match[str]) -> str:
    run = match.group(0)
    return re.sub(r"\d", "*", run[:-4]) + run[-4:]


def masked(text: str | None) -> str | None:
    """Free text bound for a broad topic: e-mail addresses and runs of seven or more digits
    (phone, ID, card numbers) hidden but for their last four digits."""
    if text is None:
        return None
    return _NUMBER.sub(_hide_number, _EMAIL.sub(_hide_email, text))
