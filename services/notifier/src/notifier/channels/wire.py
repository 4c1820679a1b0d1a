"""A small HTTP/1.1 client for the channels' POSTs: kept-alive connections, no pool scans.

The channels need one thing: POST a body and read the status and a short answer. httpx did that
at 2.4 ms of CPU per POST with 32 sends in flight, most of the notifier's CPU (its connection
pool polled every pooled socket with a system call on each request and each answer; ADR 0027).
This does it on asyncio streams: per origin a stack of idle connections, one taken per request
and never shared, put back after a complete answer. A connection the server closed is seen by
the event loop (end of stream) and dropped before use, as is one idle longer than servers
usually keep one (`idle_seconds`). Connections go straight to the URL's host: no proxy.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

MAX_HEAD = 64 * 1024
MAX_BODY = 1024 * 1024
"""An answer larger than this is not a channel's answer: the connection is dropped."""


class TransportError(Exception):
    """No complete answer: the connection failed, timed out, or the server broke off."""


class ConnectError(TransportError):
    """The server could not be reached (refused, unreachable, TLS refused)."""


class ConnectTimeoutError(TransportError):
    """Connecting took longer than the timeout."""


class ReadTimeoutError(TransportError):
    """The answer did not come within the timeout."""


class RemoteProtocolError(TransportError):
    """The server closed the connection or answered something that is not HTTP/1.x."""


class InvalidRequestError(ValueError):
    """The request cannot be written: a URL or a header that HTTP cannot carry."""


@dataclass(frozen=True)
class Response:
    """Status, headers (lower-case names) and body of an answer."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.content)


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = 0.0

    def usable(self, now: float, idle_seconds: float) -> bool:
        return (
            not self.reader.at_eof()
            and not self.writer.is_closing()
            and now - self.idle_since < idle_seconds
        )

    def close(self) -> None:
        self.writer.close()


@dataclass(frozen=True)
class _Target:
    secure: bool
    host: str
    port: int
    authority: str
    path: str


@dataclass
class HttpClient:
    """POSTs over kept-alive HTTP/1.1 connections; see the module docstring."""

    timeout: float
    max_idle: int = 32
    """Idle connections kept per origin (as many as the notifier may have in flight)."""
    idle_seconds: float = 4.0
    """Longest a connection waits for reuse: below the 5 s many servers close one after."""
    ssl_context: ssl.SSLContext | None = None
    _idle: dict[tuple[bool, str, int], list[_Connection]] = field(default_factory=dict)

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Response:
        """POST `body` to `url`; raises `TransportError` when no complete answer came."""
        target = _target(url)
        request = _request(target, body, headers)
        connection: _Connection | None = None
        try:
            async with asyncio.timeout(self.timeout):
                connection = self._reused(target) or await self._connect(target)
                connection.writer.write(request)
                response, reusable = await _read_response(connection.reader)
        except TimeoutError as exc:
            if connection is not None:
                connection.close()
                raise ReadTimeoutError("no answer within the timeout") from exc
            raise ConnectTimeoutError("no connection within the timeout") from exc
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            if connection is not None:
                connection.close()
            raise RemoteProtocolError(type(exc).__name__) from exc
        except BaseException:
            if connection is not None:  # cancelled mid-request: the stream is in an unknown state
                connection.close()
            raise
        self._put_back(target, connection, reusable)
        return response

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every idle connection."""
        for stack in self._idle.values():
            for connection in stack:
                connection.close()
        self._idle.clear()

    def _reused(self, target: _Target) -> _Connection | None:
        stack = self._idle.get((target.secure, target.host, target.port))
        now = time.monotonic()
        while stack:
            connection = stack.pop()
            if connection.usable(now, self.idle_seconds):
                return connection
            connection.close()
        return None

    async def _connect(self, target: _Target) -> _Connection:
        context = None
        if target.secure:
            context = self.ssl_context or ssl.create_default_context()
        try:
            reader, writer = await asyncio.open_connection(
                target.host,
                target.port,
                ssl=context,
                server_hostname=target.host if context else None,
                limit=MAX_HEAD,
            )
        except OSError as exc:  # refused, unreachable, name not found, TLS refused
            raise ConnectError(type(exc).__name__) from exc
        return _Connection(reader, writer)

    def _put_back(self, target: _Target, connection: _Connection, reusable: bool) -> None:
        stack = self._idle.setdefault((target.secure, target.host, target.port), [])
        if not reusable or len(stack) >= self.max_idle:
            connection.close()
            return
        connection.idle_since = time.monotonic()
        stack.append(connection)


def _target(url: str) -> _Target:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequestError("only http and https URLs with a host")
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    authority = parts.netloc.rpartition("@")[2]
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Target(secure, parts.hostname, port, authority, path)


def _request(target: _Target, body: bytes, headers: Mapping[str, str]) -> bytes:
    lines = [
        f"POST {target.path} HTTP/1.1",
        f"host: {target.authority}",
        f"content-length: {len(body)}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    if any(c in line for line in lines for c in "\r\n\0"):
        raise InvalidRequestError("a header or the URL holds a line break")
    try:
        return "\r\n".join(lines).encode("ascii") + b"\r\n\r\n" + body
    except UnicodeEncodeError as exc:
        raise InvalidRequestError("a header or the URL is not ASCII") from exc


async def _read_response(reader: asyncio.StreamReader) -> tuple[Response, bool]:
    """The answer, and whether the connection may carry another request."""
    while True:
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
        version, _, rest = status_line.partition(" ")
        if not version.startswith("HTTP/1."):
            raise RemoteProtocolError("not an HTTP/1.x answer")
        status = int(rest[:3])
        if not 100 <= status < 200:  # interim answers (100 Continue) are skipped
            break
    headers: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    keep = version == "HTTP/1.1" and "close" not in headers.get("connection", "").lower()
    if status in (204, 304):
        return Response(status, headers, b""), keep
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return Response(status, headers, await _chunked(reader)), keep
    if "content-length" in headers:
        length = int(headers["content-length"])
        if not 0 <= length <= MAX_BODY:
            raise RemoteProtocolError("answer too large")
        return Response(status, headers, await reader.readexactly(length)), keep
    return Response(status, headers, await _until_closed(reader)), False


async def _chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                pass
            return bytes(body)
        if len(body) + size > MAX_BODY:
            raise RemoteProtocolError("answer too large")
        body += await reader.readexactly(size)
        if await reader.readexactly(2) != b"\r\n":
            raise RemoteProtocolError("bad chunk")


async def _until_closed(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while chunk := await reader.read(64 * 1024):
        body += chunk
        if len(body) > MAX_BODY:
            raise RemoteProtocolError("answer too large")
    return bytes(body)
