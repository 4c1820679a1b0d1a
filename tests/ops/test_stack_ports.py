"""The local stack never goes on against a server another checkout started on its ports."""

from __future__ import annotations

import importlib
import os
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.ops.local_stack import load_stack

load_stack()  # puts deploy/local on sys.path
supervise: Any = importlib.import_module("complaints_stack.supervise")


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(supervise, "STATE", tmp_path)
    return tmp_path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_port_served_by_someone_else_refuses_the_start(
    state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as other:  # the other checkout's server
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        monkeypatch.setattr(supervise, "served_ports", lambda _name: (port,))
        with pytest.raises(SystemExit, match=f"127.0.0.1:{port} is already served"):
            supervise.spawn("kafka", [sys.executable, "-c", "pass"])
    assert not (state / "run" / "kafka.pid").exists()  # nothing was started


def test_free_ports_start_the_server(state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = _free_port()
    monkeypatch.setattr(supervise, "served_ports", lambda _name: (port,))
    supervise.spawn("kafka", [sys.executable, "-c", "pass"])
    assert (state / "run" / "kafka.pid").read_text().split("\n")[0].isdigit()


def test_every_server_the_stack_starts_names_its_ports() -> None:
    for name in ("kafka", "ferretdb", "ferretdb-auth", "prometheus"):
        assert supervise.served_ports(name), name


def _listen_after(delay: float, port: int) -> list[str]:
    """A server stand-in: listens on `port` after `delay` seconds, then stays up."""
    code = (
        "import socket, time\n"
        f"time.sleep({delay})\n"
        "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        f"s.bind(('127.0.0.1', {port})); s.listen(); time.sleep(60)\n"
    )
    return [sys.executable, "-c", code]


def test_a_pid_now_held_by_another_program_is_not_our_server(state: Path) -> None:
    (state / "run").mkdir()
    # This test's own process stands for the program that reused the server's pid.
    (state / "run" / "kafka.pid").write_text(f"{os.getpid()}\n{'0' * 16}")
    assert supervise.alive("kafka") is None


def test_a_slow_server_of_ours_is_waited_for_not_started_twice(
    state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _free_port()
    monkeypatch.setattr(supervise, "served_ports", lambda _name: (port,))
    supervise.spawn("kafka", _listen_after(1.5, port))  # longer than one look's 0.5 s
    try:
        assert supervise.alive("kafka") is not None
        assert not supervise.port_open(port)
        assert supervise.running("kafka", port, timeout=30.0)
    finally:
        supervise.stop("kafka")
    assert supervise.alive("kafka") is None


def test_a_server_of_ours_that_never_serves_is_restarted(
    state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _free_port()
    monkeypatch.setattr(supervise, "served_ports", lambda _name: (port,))
    supervise.spawn("kafka", _listen_after(60.0, port))
    assert not supervise.running("kafka", port, timeout=1.0)
    assert supervise.alive("kafka") is None  # stopped, so the caller starts it afresh
