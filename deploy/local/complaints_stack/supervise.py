"""Process supervision: start a server detached, see whether it runs, wait for its port, stop it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from complaints_stack.base import HOST, PORTS, STATE, log


def pidfile(name: str) -> Path:
    """Where the pid of the server `name` is kept."""
    return STATE / "run" / f"{name}.pid"


def alive(name: str) -> int | None:
    """The pid of a server we started, if it still runs."""
    path = pidfile(name)
    if not path.exists():
        return None
    pid = int(path.read_text())
    try:
        os.kill(pid, 0)
    except OSError:
        return None
    return pid


def port_open(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:`port`."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((HOST, port)) == 0


def served_ports(name: str) -> tuple[int, ...]:
    """The loopback ports the server `name` listens on (the ones that must be free to start it)."""
    return {
        "kafka": (PORTS.kafka, PORTS.controller),
        "ferretdb": (PORTS.mongo,),
        "ferretdb-auth": (PORTS.mongo_auth, PORTS.mongo_auth_tls),
        "prometheus": (PORTS.prometheus,),
    }.get(name, ())


def refuse_foreign_server(name: str) -> None:
    """Stop before starting `name` if its port is already served by a process we did not start.

    Without this, a checkout whose own server is not running would start one that cannot bind,
    find the port answering anyway and go on against the other checkout's server — creating its
    SCRAM users there with its own passwords, so that checkout's authenticated clients are then
    refused (it happened with two worktrees of this repository on one host).
    """
    for port in served_ports(name):
        if port_open(port):
            raise SystemExit(
                f"[stack] cannot start {name}: {HOST}:{port} is already served by a process this "
                f"checkout did not start ({STATE / 'run' / (name + '.pid')} names none running) — "
                "another checkout's stack or a server left over. Stop it, or give this stack "
                "other ports (COMPLAINTS_*_PORT) or a network namespace of its own."
            )


def spawn(
    name: str, cmd: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> None:
    """Start a server detached from this process, logging to .local/logs/NAME.log.

    Refuses if the server's ports are already served (`refuse_foreign_server`).
    """
    refuse_foreign_server(name)
    (STATE / "run").mkdir(parents=True, exist_ok=True)
    (STATE / "logs").mkdir(parents=True, exist_ok=True)
    out = (STATE / "logs" / f"{name}.log").open("ab")
    proc = subprocess.Popen(
        cmd,
        stdout=out,
        stderr=subprocess.STDOUT,
        cwd=cwd,
        env=env,
        start_new_session=True,
        stdin=subprocess.DEVNULL,
    )
    pidfile(name).write_text(str(proc.pid))


def wait_port(name: str, port: int, timeout: float) -> None:
    """Poll the port instead of sleeping a fixed time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port):
            return
        if alive(name) is None:
            tail = (STATE / "logs" / f"{name}.log").read_text(errors="replace")[-3000:]
            raise SystemExit(f"[stack] {name} exited during start-up:\n{tail}")
        time.sleep(0.2)
    raise SystemExit(f"[stack] {name} not listening on {port} after {timeout:.0f}s")


def stop(name: str, timeout: float = 20.0) -> None:
    """Stop the server `name` (its whole process group): TERM, then KILL after `timeout`."""
    pid = alive(name)
    if pid is None:
        pidfile(name).unlink(missing_ok=True)
        return
    log(f"stopping {name} (pid {pid})…")
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive(name):
        time.sleep(0.2)
    if alive(name):
        os.killpg(pid, signal.SIGKILL)
    pidfile(name).unlink(missing_ok=True)
