"""The case list's page cursor: opaque to clients, checked when it comes back (ADR 0022).

A cursor names where the last page ended in the list's own order — (received_at, id), or
(next due, id) for a due list — and a digest of the filters it was read with, so it continues
only the list it came from. Anything else is refused (400), never read as some other position.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from datetime import UTC, datetime, timedelta

VERSION = "1"
MAX_TEXT = 120
"""The longest cursor text accepted (one is about 60 characters)."""
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PLAIN = re.compile(r"^1\.([rd])\.([0-9]{1,13})\.(CP[0-9]{8}-[0-9A-Z]{10})\.([0-9a-f]{12})$")
_TEXT = re.compile(r"^[A-Za-z0-9_-]+$")


class BadCursorError(ValueError):
    """A cursor that no page of this list gave out."""


def list_scope(*filters: object) -> str:
    """A digest of a list request's filters (not its cursor or page size)."""
    return hashlib.sha256(repr(filters).encode()).hexdigest()[:12]


def cursor_text(key: tuple[datetime, str], *, by_due: bool, scope: str) -> str:
    """The `next_after` that continues the list behind the row with this `key`."""
    at, complaint_id = key
    millis = (at - EPOCH) // timedelta(milliseconds=1)
    plain = f"{VERSION}.{'d' if by_due else 'r'}.{millis}.{complaint_id}.{scope}"
    return base64.urlsafe_b64encode(plain.encode()).decode().rstrip("=")


def cursor_of(text: str, *, by_due: bool, scope: str) -> tuple[datetime, str]:
    """The key a cursor continues after; `BadCursorError` unless this list gave it out."""
    if len(text) > MAX_TEXT or not _TEXT.match(text):
        raise BadCursorError("not a cursor")
    try:
        plain = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadCursorError("not a cursor") from None
    found = _PLAIN.match(plain)
    if found is None:
        raise BadCursorError("not a cursor")
    kind, millis, complaint_id, made_for = found.groups()
    if (kind == "d") != by_due or made_for != scope:
        raise BadCursorError("the cursor belongs to another list")
    return EPOCH + timedelta(milliseconds=int(millis)), complaint_id
