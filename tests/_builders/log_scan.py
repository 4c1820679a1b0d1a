"""Personal numbers as they would leak into logs or storage: mainland mobile phone numbers and
resident ID numbers (the e2e log scan and stored-collection scan)."""

from __future__ import annotations

import re

# Not inside a longer ASCII token (a UUID's `c147-4685-8981-…`, a hex digest); Chinese text right
# before a number does not shield it.
PHONE = re.compile(r"(?<![0-9A-Za-z.\-])(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}(?![0-9A-Za-z\-])")
RESIDENT_ID = re.compile(
    r"(?<![0-9A-Za-z])\d{6}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
    r"(?![0-9A-Za-z])"
)


def found_in(text: str) -> str | None:
    """The first phone or ID number in `text`, shortened to its first three characters."""
    for pattern in (PHONE, RESIDENT_ID):
        if match := pattern.search(text):
            return f"…{match.group(0)[:3]}…"
    return None


def personal_numbers(name: str, text: str) -> list[str]:
    """Where `text` holds a personal number, as `name:line: …first three digits…` (never whole)."""
    return [
        f"{name}:{number}: {found}"
        for number, line in enumerate(text.splitlines(), 1)
        if (found := found_in(line)) is not None
    ]
