"""Receipt times: many spellings in, aware UTC out, Asia/Shanghai kept for display."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
"""China has kept UTC+8 without daylight saving since 1991, so a fixed offset is exact."""

_MILLIS_THRESHOLD = 100_000_000_000  # epoch seconds reach this only in the year 5138
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?")
_CHINESE = re.compile(
    r"(\d{4})年(\d{1,2})月(\d{1,2})[日号號]\s*(?:(\d{1,2})[:：时時点點](\d{1,2})?分?(?:[:：](\d{1,2})秒?)?)?"
)
_SLASHED = re.compile(r"(\d{4})[/.](\d{1,2})[/.](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_MAX_TIME_CHARS = 64


class TimestampError(ValueError):
    """A time that cannot be read."""


def _from_groups(groups: tuple[str | None, ...]) -> datetime:
    numbers = [int(group) if group else 0 for group in groups]
    year, month, day, hour, minute, second = (numbers + [0] * 6)[:6]
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


def _parse_text(value: str) -> datetime:
    text = value.strip()
    if not text or len(text) > _MAX_TIME_CHARS:
        raise TimestampError("empty or overlong time")
    for pattern in (_COMPACT, _CHINESE, _SLASHED):
        match = pattern.fullmatch(text)
        if match:
            return _from_groups(match.groups())
    if re.fullmatch(r"-?\d+(?:\.\d+)?", text):
        return _from_epoch(float(text))
    parsed = datetime.fromisoformat(text.replace("z", "Z"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=SHANGHAI)


def _from_epoch(value: float) -> datetime:
    seconds = value / 1000 if abs(value) >= _MILLIS_THRESHOLD else value
    return datetime.fromtimestamp(seconds, tz=UTC)


def parse_time(value: object) -> datetime:
    """An aware datetime from ISO 8601, common Chinese spellings or epoch seconds/millis.

    A time without an offset is Asia/Shanghai time.
    """
    try:
        if isinstance(value, bool):
            raise TimestampError("boolean is not a time")
        if isinstance(value, int | float):
            return _from_epoch(float(value))
        if isinstance(value, str):
            return _parse_text(value)
    except (ValueError, OverflowError, OSError) as error:
        raise TimestampError(str(error)) from error
    raise TimestampError("time must be a string or a number")


def end_of_day(value: object) -> datetime:
    """Like `parse_time`, but a bare date means the end of that day in Shanghai (deadlines)."""
    parsed = parse_time(value)
    if isinstance(value, str) and re.fullmatch(r"\s*\d{4}\D?\d{1,2}\D?\d{1,2}[日号號]?\s*", value):
        return parsed.replace(hour=23, minute=59, second=59)
    return parsed


def to_utc(moment: datetime) -> datetime:
    """The same instant in UTC."""
    return moment.astimezone(UTC)


def local_display(moment: datetime) -> str:
    """ISO 8601 in Asia/Shanghai, e.g. 2026-11-24T15:30:00+08:00."""
    return moment.astimezone(SHANGHAI).isoformat(timespec="seconds")
