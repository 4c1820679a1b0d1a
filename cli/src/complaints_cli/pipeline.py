"""Start the four service processes against the local stack, watch them, stop them."""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

SERVICES = ("intake", "classifier", "sla", "notifier")
REPO = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class StackConfig:
    """Where the servers are and how the services should run for one pipeline run."""

    database: str
    kafka: str = os.environ.get("COMPLAINTS_KAFKA", "127.0.0.1:9092")
    mongo: str = os.environ.get("COMPLAINTS_MONGO", "mongodb://127.0.0.1:27017")
    port_base: int = 8000
    receiver_port: int = 8025
    policy_dir: Path = REPO / "policies"
    log_dir: Path = REPO / ".local" / "logs"
    time_scale: float = 1.0
    time_origin: str | None = None  # business time at `time_anchor` (default: the anchor itself)
    time_anchor: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    time_plan: str | None = None  # pace changes (the demo's fast nights, servicekit.clock.Pace)
    time_anchor_file: str | None = None  # the anchor, written once the services are up (demo)
    extra_env: dict[str, str] = field(default_factory=dict)

    def port(self, service: str) -> int:
        """HTTP port of a service: base + 1..4."""
        return self.port_base + 1 + SERVICES.index(service)

    def env(self, service: str) -> dict[str, str]:
        """Environment for one service process."""
        prefix = service.upper()
        env = dict(os.environ)
        env |= {
            f"{prefix}_KAFKA__BOOTSTRAP_SERVERS": self.kafka,
            f"{prefix}_MONGO__URL": self.mongo,
            f"{prefix}_MONGO__DATABASE": self.database,
            f"{prefix}_HTTP_PORT": str(self.port(service)),
            f"{prefix}_POLICY_DIR": str(self.policy_dir),
            f"{prefix}_TIME_SCALE": str(self.time_scale),
            f"{prefix}_TIME_ANCHOR": self.time_anchor,
            "NOTIFIER_SMS_GATEWAY_URL": f"http://127.0.0.1:{self.receiver_port}/sms",
            "NOTIFIER_WEBHOOK_URL": f"http://127.0.0.1:{self.receiver_port}/webhook",
        }
        if self.time_scale != 1.0 or self.time_origin:
            env[f"{prefix}_TIME_ORIGIN"] = self.time_origin or self.time_anchor
        if self.time_plan:
            env[f"{prefix}_TIME_PLAN"] = self.time_plan
        if self.time_anchor_file:  # instead of the anchor: time stands until the file is written
            del env[f"{prefix}_TIME_ANCHOR"]
            env[f"{prefix}_TIME_ANCHOR_FILE"] = self.time_anchor_file
        return env | self.extra_env


@dataclass
class ServiceProcess:
    """One running service."""

    name: str
    replica: int
    process: subprocess.Popen[bytes]
    log_path: Path


class Pipeline:
    """The four services as separate OS processes (optionally several replicas each)."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.processes: list[ServiceProcess] = []

    def start(self, service: str, *, replica: int = 0) -> ServiceProcess:
        """Start one replica of `service`; extra replicas get their own HTTP port."""
        self.config.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.config.log_dir / f"{service}-{replica}.log"
        env = self.config.env(service)
        port = self.config.port(service) + 10 * replica
        env[f"{service.upper()}_HTTP_PORT"] = str(port)
        if port_in_use(port):
            raise RuntimeError(f"port {port} for {service} is in use: is another run still going?")
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", service],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=REPO,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - prctl only, no locks taken
            )
        started = ServiceProcess(service, replica, process, log_path)
        self.processes.append(started)
        return started

    def start_all(self, services: Sequence[str] = SERVICES) -> None:
        """Start one replica of each service."""
        for service in services:
            self.start(service)

    async def wait_ready(self, limit_s: float = 90.0) -> None:
        """Poll every replica's /readyz until all answer 200."""
        deadline = time.monotonic() + limit_s
        async with httpx.AsyncClient(timeout=2.0) as client:
            for proc in self.processes:
                port = self.config.port(proc.name) + 10 * proc.replica
                while True:
                    if proc.process.poll() is not None:
                        raise RuntimeError(
                            f"{proc.name} exited ({proc.process.returncode}); "
                            f"see {proc.log_path}:\n{tail(proc.log_path)}"
                        )
                    try:
                        if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if time.monotonic() > deadline:
                        raise TimeoutError(
                            f"{proc.name} not ready after {limit_s:.0f}s; see {proc.log_path}"
                        )
                    await asyncio.sleep(0.25)

    def kill(self, proc: ServiceProcess, sig: int = signal.SIGKILL) -> None:
        """Send `sig` to one replica (SIGKILL for crash tests)."""
        if proc.process.poll() is None:
            os.killpg(proc.process.pid, sig)
        proc.process.wait(timeout=30)

    def stop_all(self) -> None:
        """SIGTERM every replica (graceful drain), SIGKILL what does not stop in 30 s."""
        for proc in self.processes:
            if proc.process.poll() is None:
                os.killpg(proc.process.pid, signal.SIGTERM)
        for proc in self.processes:
            try:
                proc.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.process.pid, signal.SIGKILL)
                proc.process.wait()
        self.processes.clear()

    def crashed(self) -> list[ServiceProcess]:
        """Replicas that exited on their own."""
        return [p for p in self.processes if p.process.poll() is not None]


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the supervising process dies, however it dies (Linux)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def port_in_use(port: int) -> bool:
    """Whether something already listens on 127.0.0.1:`port`."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def tail(path: Path, lines: int = 20) -> str:
    """The last lines of a log file."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
