"""Masking free staff text bound for a broad topic: any long digit run, then intake's masking."""

from __future__ import annotations

import re

from contracts.masking import mask_text

_NUMBER = re.compile(r"\d(?:[ -]?\d){6,}")


def _hide_number(match: re.Match[str]) -> str:
    run = match.group(0)
    return re.sub(r"\d", "*", run[:-4]) + run[-4:]


def masked(text: str | None) -> str | None:
    """Free text bound for a broad topic: every run of seven or more digits (phone, card, account
    numbers) hidden but its last four, then what intake masks in a complaint (numbers in any
    separator style, e-mails, names after 本人 / 我是 / 营业员 / 工号 …, house numbers)."""
    if text is None:
        return None
    return mask_text(_NUMBER.sub(_hide_number, text))
