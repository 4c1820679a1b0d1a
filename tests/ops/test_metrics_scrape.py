"""Debian's Prometheus scrapes the SLA metrics and the breach alert fires: no Kafka needed.

The server runs on a free loopback port with its own config and data under tmp_path, scrapes an
in-process /metrics endpoint that serves the SLA service's real metric definitions every 200 ms,
and evaluates deploy/prometheus/rules/*.yml as often. (Prometheus waits about five seconds before
its first scrape, hence this file's few seconds.) The same check on the whole pipeline is
tests/e2e/test_prometheus_scrape.py.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from prometheus_client import CollectorRegistry, start_http_server

from servicekit.metrics import KitMetrics
from sla.metrics import SlaMetrics
from tests.ops.local_stack import REPO, load_stack, require_promtool

RULES = REPO / "deploy" / "prometheus" / "rules"
T = TypeVar("T")


def free_port() -> int:
    """A port the OS just handed out on 127.0.0.1 (Prometheus cannot report an ephemeral one)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def until(what: str, probe: Callable[[], T | None], limit: float = 30.0) -> T:
    """Poll `probe` every 50 ms until it returns something."""
    deadline = time.monotonic() + limit
    while (result := probe()) is None:
        assert time.monotonic() < deadline, f"{what}: not within {limit:.0f}s"
        time.sleep(0.05)
    return result


@pytest.fixture
def sla_metrics() -> Iterator[tuple[SlaMetrics, int]]:
    """The SLA service's metrics on a loopback /metrics endpoint (an ephemeral port)."""
    registry = CollectorRegistry()
    KitMetrics(registry, "sla")
    metrics = SlaMetrics(registry)
    server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    try:
        yield metrics, server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def prometheus(tmp_path: Path, sla_metrics: tuple[SlaMetrics, int]) -> Iterator[httpx.Client]:
    """Debian's Prometheus scraping the endpoint as job `sla`, with the project's rules."""
    require_promtool()
    binary = load_stack().prometheus_binary()
    assert binary is not None, "apt-get install prometheus"
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 200ms, scrape_timeout: 200ms, evaluation_interval: 200ms}\n"
        f'rule_files: ["{RULES}/*.yml"]\n'
        "scrape_configs:\n"
        "  - job_name: sla\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{sla_metrics[1]}']}}]\n"
    )
    port = free_port()
    with (tmp_path / "prometheus.log").open("wb") as log:
        server = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=2.0)
    try:
        yield client
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=20)


def api(client: httpx.Client, path: str) -> Any | None:
    """The `data` of one API call, or None while the server is not answering yet."""
    try:
        response = client.get(f"/api/v1/{path}")
    except httpx.TransportError:
        return None
    return response.json()["data"] if response.status_code == 200 else None


def test_a_breach_scraped_twice_fires_the_breach_alert(
    prometheus: httpx.Client, sla_metrics: tuple[SlaMetrics, int]
) -> None:
    metrics, _ = sla_metrics
    rules = until("rules loaded", lambda: api(prometheus, "rules"))
    assert {g["name"] for g in rules["groups"]} == {
        "complaints-sla",
        "complaints-pipeline",
        "complaints-notifications",
        "complaints-satisfaction",
    }
    breaches = metrics.fired.labels("breached", "dispatch", "P3")
    warnings = metrics.fired.labels("warned", "resolution", "P3")
    breaches.inc()
    warnings.inc(5)

    def scraped() -> datetime | None:
        targets = (api(prometheus, "targets") or {}).get("activeTargets", [])
        up = targets and targets[0]["health"] == "up"
        return instant(targets[0]["lastScrape"]) if up else None

    first_scrape = until("first scrape", scraped)

    def evaluated_since() -> bool | None:
        groups = (api(prometheus, "rules") or {}).get("groups", [])
        [sla] = [g for g in groups if g["name"] == "complaints-sla"]
        return True if instant(sla["lastEvaluation"]) > first_scrape else None

    until("rules evaluated after the scrape", evaluated_since)
    assert firing(prometheus) == []  # one sample: no increase yet, and warnings never count
    warnings.inc(5)
    breaches.inc(2)
    [alert] = until("breach alert", lambda: firing(prometheus) or None)
    assert alert["labels"] == {
        "alertname": "ComplaintsSlaBreached",
        "clock": "dispatch",
        "severity": "warning",
    }
    assert alert["annotations"]["runbook"] == "docs/operations.md#complaintsslabreached"


def firing(client: httpx.Client) -> list[dict[str, Any]]:
    """Every firing alert."""
    alerts = (api(client, "alerts") or {}).get("alerts", [])
    return [a for a in alerts if a["state"] == "firing"]


def instant(text: str) -> datetime:
    """A timestamp of Prometheus' API (RFC 3339, nanoseconds, Z)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
