"""E-mail over SMTP (aiosmtplib): plain text with an HTML alternative, optional STARTTLS."""

from __future__ import annotations

import hashlib
import ssl
from email.message import EmailMessage

import aiosmtplib

from notifier.channels.base import Message, PermanentDeliveryError, TransientDeliveryError


def message_id(key: str) -> str:
    """A Message-ID derived from the notification key, so receivers can drop a resend."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@notifier.complaints>"


class SmtpChannel:
    """Sends through one SMTP server; 4xx answers and network trouble are transient."""

    name = "email"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        starttls: bool,
        implicit_tls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._starttls = starttls
        self._implicit_tls = implicit_tls
        self._username = username
        self._password = password
        self._timeout = timeout
        self._tls_context = tls_context

    def compose(self, message: Message) -> EmailMessage:
        """The e-mail: text part, HTML part (values escaped when rendered), stable Message-ID."""
        mail = EmailMessage()
        mail["From"] = self._sender
        mail["To"] = message.address
        mail["Subject"] = message.subject
        mail["Message-ID"] = message_id(message.key)
        mail["X-Complaint-Id"] = message.complaint_id
        mail.set_content(message.body)
        mail.add_alternative(message.html, subtype="html")
        return mail

    async def send(self, message: Message) -> None:
        """Deliver, classifying failures as transient (retry) or permanent."""
        if not message.address:
            raise PermanentDeliveryError("email: no address")
        try:
            await aiosmtplib.send(
                self.compose(message),
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                start_tls=self._starttls and not self._implicit_tls,
                use_tls=self._implicit_tls,
                tls_context=self._tls_context,
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            raise _by_code(min(codes, default=550)) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise _by_code(exc.code) from exc
        except aiosmtplib.SMTPNotSupported as exc:
            raise PermanentDeliveryError("email: server lacks a required extension") from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise TransientDeliveryError(f"email: {type(exc).__name__}") from exc


def _by_code(code: int) -> Exception:
    """SMTP reply codes: 4xx try again later, 5xx never (the text may name the address)."""
    if 400 <= code < 500:
        return TransientDeliveryError(f"email: SMTP {code}")
    return PermanentDeliveryError(f"email: SMTP {code}")
