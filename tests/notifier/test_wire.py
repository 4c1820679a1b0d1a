"""The channels' HTTP/1.1 client against a real local server that answers as scripted."""

from __future__ import annotations

import asyncio
import shutil
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from notifier.channels.wire import (
    ConnectError,
    HttpClient,
    InvalidRequestError,
    ReadTimeoutError,
    RemoteProtocolError,
)
from tests.notifier.servers import self_signed_certificate

Answer = Callable[[asyncio.StreamWriter], Awaitable[bool]]
"""Writes one answer; says whether the connection stays open."""
OK = b'{"errcode":0}'


def plain(status: int = 200, body: bytes = OK, extra: bytes = b"") -> Answer:
    async def answer(writer: asyncio.StreamWriter) -> bool:
        writer.write(
            b"HTTP/1.1 %d X\r\ncontent-length: %d\r\n%s\r\n%s" % (status, len(body), extra, body)
        )
        return b"close" not in extra

    return answer


async def chunked(writer: asyncio.StreamWriter) -> bool:
    writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
    writer.write(b'5;ext=1\r\n{"err\r\n8\r\ncode":0}\r\n0\r\nx-trailer: 1\r\n\r\n')
    return True


async def unframed(writer: asyncio.StreamWriter) -> bool:
    writer.write(b"HTTP/1.0 200 OK\r\n\r\n" + OK)
    return False


async def hang(writer: asyncio.StreamWriter) -> bool:
    await asyncio.sleep(5)
    return False


async def broken(writer: asyncio.StreamWriter) -> bool:
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial")
    return False


@dataclass
class Server:
    """Counts connections and requests; answers with `script` (then `plain()`)."""

    script: list[Answer] = field(default_factory=list)
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    open: list[asyncio.StreamWriter] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                self.requests.append(head + await reader.readexactly(length))
                answer = self.script.pop(0) if self.script else plain()
                keep = await answer(writer)
                await writer.drain()
                if not keep:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def close_idle(self) -> None:
        """Close every connection from the server's side (its keep-alive ran out)."""
        for writer in self.open:
            writer.close()


@asynccontextmanager
async def serving(server: Server, tls: ssl.SSLContext | None = None) -> AsyncIterator[str]:
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0, ssl=tls)
    port = listener.sockets[0].getsockname()[1]
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}/sms?x=1"
    finally:
        listener.close()
        server.close_idle()


async def test_connections_are_kept_alive_and_the_request_is_plain_http() -> None:
    server = Server()
    async with serving(server) as url, HttpClient(timeout=2.0) as client:
        for n in range(20):
            response = await client.post(url, b'{"n":%d}' % n, {"idempotency-key": f"k{n}"})
            assert (response.status_code, response.json()) == (200, {"errcode": 0})
        await asyncio.gather(*(client.post(url, b"{}", {}) for _ in range(8)))
    assert server.connections <= 8  # 20 in a row on one connection, 8 at once on at most 8
    head, _, body = server.requests[3].partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /sms?x=1 HTTP/1.1"
    assert b"idempotency-key: k3" in lines
    assert f"host: {url.split('/')[2]}".encode() in lines
    assert body == b'{"n":3}'


async def test_a_connection_the_server_closed_is_not_used_again() -> None:
    server = Server()
    async with serving(server) as url, HttpClient(timeout=2.0) as client:
        await client.post(url, b"{}", {})
        server.close_idle()
        await asyncio.sleep(0.05)  # the close reaches the client's event loop
        assert (await client.post(url, b"{}", {})).status_code == 200
    assert server.connections == 2


async def test_an_idle_connection_is_retired_before_the_server_would_drop_it() -> None:
    server = Server()
    async with serving(server) as url, HttpClient(timeout=2.0, idle_seconds=0.05) as client:
        await client.post(url, b"{}", {})
        await asyncio.sleep(0.1)
        await client.post(url, b"{}", {})
    assert server.connections == 2


async def test_chunked_unframed_and_closing_answers_are_read_whole() -> None:
    server = Server(script=[chunked, unframed, plain(extra=b"connection: close\r\n")])
    async with serving(server) as url, HttpClient(timeout=2.0) as client:
        assert (await client.post(url, b"{}", {})).json() == {"errcode": 0}  # chunked, kept
        assert (await client.post(url, b"{}", {})).content == OK  # read until closed
        assert (await client.post(url, b"{}", {})).content == OK  # then closed
        assert (await client.post(url, b"{}", {})).status_code == 200
    assert server.connections == 3


async def test_status_codes_come_back_as_they_are() -> None:
    server = Server(script=[plain(503, b""), plain(422, b"{}")])
    async with serving(server) as url, HttpClient(timeout=2.0) as client:
        assert (await client.post(url, b"{}", {})).status_code == 503
        assert (await client.post(url, b"{}", {})).status_code == 422


async def test_a_hanging_server_times_out_and_the_next_request_gets_a_fresh_connection() -> None:
    server = Server(script=[hang])
    async with serving(server) as url, HttpClient(timeout=0.2) as client:
        with pytest.raises(ReadTimeoutError):
            await client.post(url, b"{}", {})
        assert (await client.post(url, b"{}", {})).status_code == 200
    assert server.connections == 2


async def test_an_answer_broken_off_is_a_transport_error() -> None:
    server = Server(script=[broken])
    async with serving(server) as url, HttpClient(timeout=2.0) as client:
        with pytest.raises(RemoteProtocolError):
            await client.post(url, b"{}", {})


async def test_nobody_listening_is_a_connect_error() -> None:
    async with HttpClient(timeout=2.0) as client:
        with pytest.raises(ConnectError):
            await client.post("http://127.0.0.1:9/sms", b"{}", {})


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        ("http://127.0.0.1:9/sms", {"idempotency-key": "k\r\nx-injected: 1"}),
        ("http://127.0.0.1:9/sms", {"idempotency-key": "案件"}),
        ("ftp://127.0.0.1/sms", {}),
    ],
)
async def test_a_request_http_cannot_carry_is_refused_before_sending(
    url: str, headers: dict[str, str]
) -> None:
    async with HttpClient(timeout=2.0) as client:
        with pytest.raises(InvalidRequestError):
            await client.post(url, b"{}", headers)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl command")
async def test_https_verifies_the_server_against_the_trusted_certificate(tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    server = Server()
    async with serving(server, tls) as url:
        trusting = HttpClient(timeout=2.0, ssl_context=ssl.create_default_context(cafile=cert))
        async with trusting:
            assert (await trusting.post(url, b"{}", {})).status_code == 200
        async with HttpClient(timeout=2.0) as default:  # the system's CAs: not this one
            with pytest.raises(ConnectError):
                await default.post(url, b"{}", {})
