"""Structured JSON logs with personal data redacted as a last line of defence."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

import orjson

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
"""The complaint id being worked on, added to every log line emitted meanwhile."""


@contextmanager
def correlated(complaint_id: str | None) -> Iterator[None]:
    """Tag every log line emitted inside the block with `complaint_id` (None: no id known)."""
    token = correlation_id.set(complaint_id)
    try:
        yield
    finally:
        correlation_id.reset(token)


_REDACTIONS = (
    (re.compile(r"(?<!\d)(\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)"), "<phone>"),
    (re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])"), "<id-number>"),
    (re.compile(r"(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)"), "<phone>"),
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"), "<email>"),
)


def redact(text: str) -> str:
    """Mask phone numbers, ID numbers and e-mail addresses in free text."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, service, logger, message, complaint id, extras."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        """Render `record` as redacted JSON."""
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self._service,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if (cid := correlation_id.get()) is not None:
            entry["complaint_id"] = cid
        for key, value in getattr(record, "fields", {}).items():
            entry[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["error"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    """Readable, redacted lines for people at a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        """Render `record` as redacted text."""
        return redact(super().format(record))


def configure_logging(*, service: str, level: str = "INFO", fmt: str = "json") -> None:
    """Send every logger's output through the redacting formatter on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter(service))
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "pymongo", "uvicorn.access", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
