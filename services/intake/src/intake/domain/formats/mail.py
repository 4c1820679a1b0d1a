"""E-mail: an RFC 5322 message (MIME, quoted-printable, base64, GBK / GB18030 bodies)."""

from __future__ import annotations

import base64
import binascii
import email
import html
import re
from collections.abc import Mapping
from email.header import decode_header
from email.message import Message
from email.policy import compat32
from email.utils import parseaddr
from typing import Any

from contracts.values import Channel
from intake.domain.formats.fields import Submission, join_text, text_field, time_value, wrong_shape

# GB2312 and GBK labels are routinely wrong about what the mailer actually wrote; GB18030
# decodes all of them.
_CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "gb_2312-80": "gb18030",
    "euc-cn": "gb18030",
}
_TAG = re.compile(r"<[^>]*>")
_INVISIBLE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_BREAK = re.compile(r"<\s*(?:br|/p|/div|/li|/tr)\b[^>]*>", re.IGNORECASE)


def _decode_bytes(data: bytes, charset: str | None) -> str:
    label = (charset or "utf-8").strip().strip('"').lower()
    label = _CHARSET_ALIASES.get(label, label)
    for candidate in (label, "utf-8", "gb18030"):
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", errors="replace")


def _header(message: Message, name: str) -> str | None:
    raw = message.get(name)
    if raw is None:
        return None
    parts: list[str] = []
    for chunk, charset in decode_header(str(raw)):
        parts.append(_decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk)
    return "".join(parts).strip() or None


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    return _decode_bytes(payload, part.get_content_charset())


def _html_to_text(markup: str) -> str:
    markup = _INVISIBLE.sub("", markup)
    return html.unescape(_TAG.sub("", _BREAK.sub("\n", markup)))


def _drop_quoted(body: str) -> str:
    # Earlier messages quoted in a reply are not this complaint.
    kept = [line for line in body.splitlines() if not line.lstrip().startswith(">")]
    return "\n".join(kept) if any(line.strip() for line in kept) else body


def _body(message: Message) -> str:
    plain: str | None = None
    markup: str | None = None
    for part in message.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        content_type = part.get_content_type()
        if content_type == "text/plain" and plain is None:
            plain = _part_text(part)
        elif content_type == "text/html" and markup is None:
            markup = _part_text(part)
    if plain is not None and plain.strip():
        return _drop_quoted(plain)
    return _html_to_text(markup) if markup else ""


def _raw_message(wrapper: Mapping[str, Any]) -> bytes:
    encoded = text_field(wrapper, "message_base64")
    if encoded is not None:
        try:
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise wrong_shape("field 'message_base64' is not valid base64") from None
    message = text_field(wrapper, "message", required=True) or ""
    return message.encode("utf-8", errors="surrogateescape")


def read_email(wrapper: Mapping[str, Any]) -> Submission:
    """{"format": "email", "message": "<RFC 5322 text>"} or {"message_base64": "<bytes>"}.

    Use `message_base64` when a part is 8-bit in a charset other than UTF-8; `message` is read
    as UTF-8. An optional `received_at` (the mail server's receipt) wins over the Date header.
    The text is the Subject plus the first text/plain part (or text/html without tags), with
    quoted earlier messages dropped.
    """
    raw = _raw_message(wrapper)
    try:
        message = email.message_from_bytes(raw, policy=compat32)
        subject = _header(message, "Subject")
        sender = _header(message, "From") or ""
        date = _header(message, "Date")
        message_id = _header(message, "Message-ID")
        body = _body(message)
    except Exception as error:  # the parser is lenient, but hostile MIME is hostile
        raise wrong_shape(f"unreadable e-mail message ({type(error).__name__})") from None
    name, address = parseaddr(sender)
    wrapper_time = time_value(wrapper, "received_at")
    return Submission(
        channel=Channel.EMAIL,
        text=join_text(subject, body),
        external_id=message_id.strip("<> ") if message_id else None,
        received_at=wrapper_time if wrapper_time is not None else _email_date(date),
        received_at_trusted=wrapper_time is not None,
        name=name or None,
        email=address if "@" in address else None,
        phone=None,
        customer_id=text_field(wrapper, "customer_id"),
        tier=text_field(wrapper, "tier"),
        phone_in_text=True,
    )


def _email_date(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).isoformat()
    except (TypeError, ValueError, IndexError):
        return None
