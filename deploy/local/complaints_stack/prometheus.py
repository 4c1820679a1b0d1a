"""Prometheus from Debian's package, scraping the four services with the project's alert rules."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

from complaints_stack.base import HOST, PORTS, REPO, STATE, log, run
from complaints_stack.supervise import alive, running, spawn, stop, wait_port


def _debian_tool(name: str) -> str | None:
    return shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)


def promtool() -> str | None:
    """Debian's promtool (rule unit tests, config checks), if installed."""
    return _debian_tool("promtool")


def prometheus_binary() -> str | None:
    """Debian's Prometheus server, if installed."""
    return _debian_tool("prometheus")


def _as_root() -> list[str] | None:
    """Command prefix that runs as root: nothing when we are root, `sudo -n` when allowed."""
    if os.geteuid() == 0:
        return []
    sudo = shutil.which("sudo")
    if sudo is None:
        return None
    allowed = subprocess.run([sudo, "-n", "true"], capture_output=True, check=False)
    return [sudo, "-n"] if allowed.returncode == 0 else None


def install_prometheus() -> None:
    """Install Debian's prometheus package (promtool + server) if missing."""
    if promtool() and prometheus_binary():
        return
    root = _as_root()
    if root is None:
        log("prometheus not installed and neither root nor sudo: run apt-get install prometheus")
        return
    log("installing Prometheus from Debian (first run only)…")
    apt = [*root, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]
    run([*apt, "update", "-qq"])
    run([*apt, "install", "-y", "-qq", "--no-install-recommends", "prometheus"])
    # On a machine with an init system the package starts its own service on :9090; ours runs on
    # its own port, config and data, so stop that one (by its service name, nothing broader).
    subprocess.run([*root, "service", "prometheus", "stop"], capture_output=True, check=False)


PROMETHEUS_JOBS = ("intake", "classifier", "sla", "notifier")
"""Scrape jobs, named as in deploy/prometheus/prometheus.yml so the same rules apply."""


def prometheus_config(*, scrape_interval: float = 5.0, port_base: int = 8000) -> str:
    """The local Prometheus' configuration.

    It scrapes the four services on 127.0.0.1:`port_base`+1..4 (the ports `complaints` runs them
    on) every `scrape_interval` seconds, evaluates the project's alert rules as often, and keeps
    the job names of the container stack's configuration so the rules and dashboards apply.
    """
    interval = f"{max(1, round(scrape_interval * 1000))}ms"
    lines = [
        "# Written by deploy/local/stack.py for the local run; edits are overwritten.",
        "global:",
        f"  scrape_interval: {interval}",
        f"  scrape_timeout: {interval}",
        f"  evaluation_interval: {interval}",
        "rule_files:",
        f"  - {json.dumps(str(REPO / 'deploy' / 'prometheus' / 'rules' / '*.yml'))}",
        "scrape_configs:",
    ]
    for offset, job in enumerate(PROMETHEUS_JOBS, start=1):
        lines += [
            f"  - job_name: {job}",
            "    static_configs:",
            f"      - targets: ['{HOST}:{port_base + offset}']",
        ]
    lines += [
        "  - job_name: prometheus",
        "    static_configs:",
        f"      - targets: ['{HOST}:{PORTS.prometheus}']",
    ]
    return "\n".join(lines) + "\n"


def start_prometheus(*, scrape_interval: float = 5.0, port_base: int = 8000) -> None:
    """Run Debian's Prometheus on 127.0.0.1:`PORTS.prometheus` with the local configuration.

    Already running (started by this script): the configuration is rewritten and reloaded
    (SIGHUP to its pid) if it changed. Data lives in .local/prometheus/data.
    """
    install_prometheus()
    binary, checker = prometheus_binary(), promtool()
    if binary is None or checker is None:
        raise SystemExit("[stack] Prometheus is not installed (apt-get install prometheus)")
    home = STATE / "prometheus"
    home.mkdir(parents=True, exist_ok=True)
    config = home / "prometheus.yml"
    text = prometheus_config(scrape_interval=scrape_interval, port_base=port_base)
    changed = not config.exists() or config.read_text() != text
    config.write_text(text)
    run([checker, "check", "config", str(config)])
    pid = alive("prometheus")
    if pid is not None and running("prometheus", PORTS.prometheus):
        if changed:
            log(f"reloading Prometheus (pid {pid}) with {config}")
            os.kill(pid, signal.SIGHUP)
        return
    log(f"starting Prometheus on {HOST}:{PORTS.prometheus}…")
    spawn(
        "prometheus",
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={home / 'data'}",
            "--storage.tsdb.retention.time=2d",
            f"--web.listen-address={HOST}:{PORTS.prometheus}",
        ],
    )
    wait_port("prometheus", PORTS.prometheus, 30)


def stop_prometheus() -> None:
    """Stop the Prometheus this script started (by its pid file)."""
    stop("prometheus")
