"""Head counts written in Arabic or Chinese numerals: 30多户, 十几位, 五户, 两百人."""

from __future__ import annotations

import re

COUNT_PATTERN = r"(?:\d{1,6}|上[百千]|[零一二两三四五六七八九十百千几数]{1,6})[多余来几]?"
"""Regex fragment a policy can use (as `{num}`) to capture a head count."""

_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8}
_DIGITS["九"] = 9
_UNITS = {"十": 10, "百": 100, "千": 1000}
# 几 / 数 mean "a few": read them as the smallest plausible value so thresholds are not overstated.
_FEW = 3
_ARABIC = re.compile(r"\d+")


def parse_count(text: str) -> int | None:
    """The number a count phrase states at least (30多 → 30, 十几 → 13, 几十 → 30), or None."""
    core = text.rstrip("多余来")
    if not core:
        return None
    if _ARABIC.fullmatch(core):
        return int(core)
    if core in {"上百", "上千"}:
        return _UNITS[core[1]]
    if core.endswith("几") and len(core) > 1:
        base = _parse_chinese(core[:-1])
        return None if base is None else base + _FEW
    return _parse_chinese(core)


def _parse_chinese(text: str) -> int | None:
    """Chinese numerals below ten thousand; 几 / 数 count as a few."""
    total = 0
    pending: int | None = None
    for char in text:
        if char in _DIGITS:
            pending = _DIGITS[char]
        elif char in {"几", "数"}:
            pending = _FEW
        elif char in _UNITS:
            total += (1 if pending is None else pending) * _UNITS[char]
            pending = None
        else:
            return None
    return total + (pending or 0)
