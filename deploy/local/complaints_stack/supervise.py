"""Process supervision: start a server detached, see whether it runs, wait for its port, stop it."""

from __future__ import annotations

import hashlib
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


def _fingerprint(args: list[str] | list[bytes]) -> str:
    """A command line's digest, as the pid file keeps it."""
    raw = b"\0".join(a if isinstance(a, bytes) else a.encode() for a in args)
    return hashlib.sha256(raw).hexdigest()[:16]


def alive(name: str) -> int | None:
    """The pid of a server we started, if it still runs.

    The pid file keeps the command line's digest: after a reboot or a long time the pid may
    belong to another program, which is then not taken for the server."""
    path = pidfile(name)
    if not path.exists():
        return None
    pid_text, _, started = path.read_text().partition("\n")
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
        if " Z " in Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2][:3]:
            return None  # exited, not yet reaped by the process that started it
    except OSError:
        return None
    if started.strip():
        try:
            raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return None
        # Empty for a moment right after the start: the kernel resumes the parent of a vfork
        # before the child's new arguments are in place. Only another command line is a reuse.
        if raw and _fingerprint(raw.rstrip(b"\0").split(b"\0")) != started.strip():
            return None
    return pid


def running(name: str, port: int, timeout: float = 30.0) -> bool:
    """Whether the server `name` we started runs and serves `port`.

    A server of ours that does not answer at once is waited for (it may be starting, or slow
    under load): one short look used to start a second server beside it, which lost track of the
    first. One that never answers within `timeout` is stopped, so the caller starts it afresh."""
    if alive(name) is None:
        return False
    deadline = time.monotonic() + timeout
    while not port_open(port):
        if alive(name) is None:
            return False
        if time.monotonic() > deadline:
            log(f"{name} runs but has not served {HOST}:{port} for {timeout:.0f}s: restarting it")
            stop(name)
            return False
        time.sleep(0.2)
    return True


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
    pidfile(name).write_text(f"{proc.pid}\n{_fingerprint(cmd)}")


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
