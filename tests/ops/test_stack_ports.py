"""The local stack never goes on against a server another checkout started on its ports."""

from __future__ import annotations

import importlib
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
    assert (state / "run" / "kafka.pid").read_text().isdigit()


def test_every_server_the_stack_starts_names_its_ports() -> None:
    for name in ("kafka", "ferretdb", "ferretdb-auth", "prometheus"):
        assert supervise.served_ports(name), name
