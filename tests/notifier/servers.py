"""Real local servers for the channel tests: an HTTP receiver (uvicorn) and SMTP (aiosmtpd).

Both bind 127.0.0.1 on an ephemeral port. The HTTP receiver checks what a real SMS gateway,
webhook consumer, WeCom robot or DingTalk robot would check (HMAC signature, robot key, DingTalk
`timestamp` + `sign`) with its own code, answers from a per-path script (500s, slow answers,
robot error codes), and records what it accepted.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import socket
import ssl
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import uvicorn
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from complaints_cli.receiver import read_body

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

SMS_SECRET = b"sms-secret-for-tests"
WEBHOOK_SECRET = b"webhook-secret-for-tests"
WECOM_KEY = "wecom-robot-key-0001"
DINGTALK_TOKEN = "dingtalk-access-token-0001"
DINGTALK_SECRET = "SECdingtalk-signing-secret"


@dataclass(frozen=True)
class Reply:
    """One scripted answer. A delayed answer stands for a gateway that hangs: it never counts."""

    status: int = 200
    payload: dict[str, Any] = field(default_factory=lambda: {"errcode": 0, "errmsg": "ok"})
    delay: float = 0.0


@dataclass(frozen=True)
class Request:
    """One request as the receiver saw it."""

    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


@dataclass
class Receiver:
    """ASGI app playing SMS gateway, webhook consumer, WeCom and DingTalk robots."""

    script: dict[str, list[Reply]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    accepted: list[Request] = field(default_factory=list)
    bad_signatures: int = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        request = Request(
            path=scope["path"],
            query=parse_qs(scope["query_string"].decode()),
            headers={k.decode(): v.decode() for k, v in scope["headers"]},
            body=body,
        )
        self.requests.append(request)
        reply = self._reply(request)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        elif reply.status == 200 and reply.payload.get("errcode", 0) == 0:
            self.accepted.append(request)
        await send(
            {
                "type": "http.response.start",
                "status": reply.status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": json.dumps(reply.payload).encode()})

    def _reply(self, request: Request) -> Reply:
        refusal = self._check(request)
        if refusal is not None:
            self.bad_signatures += 1
            return refusal
        queued = self.script.get(request.path)
        return queued.pop(0) if queued else Reply()

    def _check(self, request: Request) -> Reply | None:
        """What a real endpoint refuses: bad HMAC, wrong robot key, bad DingTalk sign."""
        if request.path in ("/sms", "/webhook"):
            secret = SMS_SECRET if request.path == "/sms" else WEBHOOK_SECRET
            stamp = request.headers.get("x-timestamp", "")
            expected = hmac.new(secret, stamp.encode() + b"." + request.body, hashlib.sha256)
            given = request.headers.get("x-signature", "")
            ok = hmac.compare_digest(given, f"sha256={expected.hexdigest()}")
            return None if ok else Reply(401, {"error": "bad signature"})
        if request.path == "/wecom":
            ok = request.query.get("key") == [WECOM_KEY]
            return None if ok else Reply(200, {"errcode": 93000, "errmsg": "invalid webhook url"})
        if request.path == "/dingtalk":
            return None if _dingtalk_ok(request.query) else Reply(200, {"errcode": 310000})
        return Reply(404, {"error": "no such path"})

    def bodies(self, path: str) -> list[Any]:
        """JSON bodies accepted on `path`."""
        return [r.json() for r in self.accepted if r.path == path]

    def duplicate_ids(self) -> list[str]:
        """Notification ids (Idempotency-Key) accepted more than once."""
        keys = Counter(r.headers.get("idempotency-key") for r in self.accepted)
        return [k for k, n in keys.items() if k and n > 1]


def _dingtalk_ok(query: dict[str, list[str]]) -> bool:
    """DingTalk's rule: the token matches, the timestamp is within an hour, the sign matches."""
    if query.get("access_token") != [DINGTALK_TOKEN]:
        return False
    [stamp], [sign] = query.get("timestamp", [""]), query.get("sign", [""])
    if not stamp.isdigit() or abs(time.time() * 1000 - int(stamp)) > 3_600_000:
        return False
    digest = hmac.new(
        DINGTALK_SECRET.encode(), f"{stamp}\n{DINGTALK_SECRET}".encode(), hashlib.sha256
    ).digest()
    return hmac.compare_digest(sign, base64.b64encode(digest).decode())


@contextlib.asynccontextmanager
async def serving_http(receiver: Receiver) -> AsyncIterator[str]:
    """Serve `receiver` on 127.0.0.1 (ephemeral port); yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        receiver, log_config=None, access_log=False, lifespan="off", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@dataclass
class Mailbox:
    """aiosmtpd handler: keeps each accepted message; `refuse` holds scripted SMTP answers."""

    refuse: list[str] = field(default_factory=list)
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        if self.refuse:
            return self.refuse.pop(0)
        content = envelope.original_content or b""
        parsed = message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


USER, PASSWORD = "notifier", "smtp-password-for-tests"


def _authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (
        auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)  # unhandled: aiosmtpd answers 535 itself


@contextlib.asynccontextmanager
async def serving_smtp(
    mailbox: Mailbox, *, tls: ssl.SSLContext | None = None
) -> AsyncIterator[int]:
    """aiosmtpd on 127.0.0.1 (ephemeral port); with `tls`, STARTTLS and AUTH are required."""
    loop = asyncio.get_running_loop()

    def factory() -> SMTP:
        if tls is None:
            return SMTP(mailbox, hostname="localhost")
        return SMTP(
            mailbox,
            hostname="localhost",
            tls_context=tls,
            require_starttls=True,
            auth_required=True,
            authenticator=_authenticate,
        )

    server = await loop.create_server(factory, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 made with the openssl command (no Python crypto installed)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key
