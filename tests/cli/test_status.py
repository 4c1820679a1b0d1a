"""`complaints status`: lag and deadline arithmetic, the printed text, health and Kafka answers."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from complaints_cli.sla_clocks import clock_rows, open_by_severity
from complaints_cli.status import read_health, read_kafka
from complaints_cli.status_view import (
    GroupLag,
    Health,
    OpenDeadlines,
    Status,
    group_lags,
    open_deadlines,
    render,
)


def test_open_deadlines_list_every_level_and_their_overdue_share() -> None:
    opened: list[dict[str, Any]] = [
        {"_id": "P1", "n": 6},
        {"_id": "P4", "n": 1},
        {"_id": None, "n": 2},
    ]
    overdue = [{"_id": "P1", "n": 3}]
    assert open_deadlines(opened, overdue) == [
        OpenDeadlines("P1", 6, 3),
        OpenDeadlines("P2", 0, 0),
        OpenDeadlines("P3", 0, 0),
        OpenDeadlines("P4", 1, 0),
        OpenDeadlines("None", 2, 0),  # a deadline stored without severity still shows
    ]


def test_open_clocks_are_counted_per_severity_from_the_case_sheets() -> None:
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    past, later = now - timedelta(hours=1), now + timedelta(hours=1)

    def clock(key: str, status: str, due: datetime, clock: str | None = "dispatch") -> Any:
        return {"key": key, "clock": clock, "severity": "P2", "status": status, "due_at": due}

    case = {
        "_id": "CP20261124-0000000001",
        "clocks": [
            clock("dispatch:1", "running", past),
            clock("resolution:1", "running", later),
            clock("acknowledge:1", "met", past),
            clock("upgrade:P1", "running", past, clock=None),  # promises nothing to anyone
        ],
    }
    opened, overdue = open_by_severity(clock_rows(case), now)
    assert opened == [{"_id": "P2", "n": 2}]
    assert overdue == [{"_id": "P2", "n": 1}]


def test_group_lag_sums_partitions_and_never_goes_negative() -> None:
    committed = {
        "classifier": {("complaints.normalized.v1", 0): 10, ("complaints.normalized.v1", 1): 5},
        "sla": {("complaints.classified.v1", 0): 9, ("complaints.lifecycle.v1", 0): 3},
    }
    ends = {
        ("complaints.normalized.v1", 0): 15,
        ("complaints.normalized.v1", 1): 5,
        ("complaints.classified.v1", 0): 8,  # compacted or reset under us: counts as 0
        # complaints.lifecycle.v1/0 unknown to the cluster (deleted topic): left out
    }
    assert group_lags(committed, ends) == [
        GroupLag("classifier", "complaints.normalized.v1", 5, 2),
        GroupLag("sla", "complaints.classified.v1", 0, 1),
    ]


def test_render_shows_every_section_aligned() -> None:
    status = Status(
        database="complaints_demo",
        stages=[("received", 240), ("classified", 240), ("with clocks", 1_234_567)],
        notifications={"delivered": 230, "failed": 2},
        deadlines=[OpenDeadlines("P1", 12, 3), OpenDeadlines("P4", 0, 0)],
        lags=[GroupLag("classifier", "complaints.normalized.v1", 1500, 6)],
        health=[Health("intake", 8001, True, True), Health("sla", 8003, True, False)],
    )
    text = render(status)
    lines = text.splitlines()
    assert lines[0] == "Pipeline status · database complaints_demo"
    assert "  with clocks   1,234,567" in lines
    assert any("230 delivered" in line and "2 failed" in line for line in lines)
    assert "  P1               12         3" in lines
    assert any(
        line.split() == ["classifier", "complaints.normalized.v1", "6", "1,500"] for line in lines
    )
    assert "  intake      :8001   live ok    ready ok" in lines
    assert "  sla         :8003   live ok    ready FAIL" in lines
    # Stage counts line up on their last digit.
    counts = [line for line in lines if line.startswith("  received") or "with clocks" in line]
    assert len({len(line) for line in counts}) == 1


def test_render_says_which_part_is_unavailable() -> None:
    status = Status(
        database="d",
        mongo_error="ServerSelectionTimeoutError",
        kafka_error="KafkaConnectionError: Unable to bootstrap",
        health=[Health("notifier", 8004, None, None)],
    )
    text = render(status)
    assert text.count("unavailable: ServerSelectionTimeoutError") == 2  # stages and deadlines
    assert "unavailable: KafkaConnectionError: Unable to bootstrap" in text
    assert "live down  ready down" in text


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
async def service() -> AsyncIterator[int]:
    """A stand-in service on an ephemeral port: live, but not ready."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        code = b"200 OK" if b"/healthz" in request.split(b"\r\n")[0] else b"503 Unavailable"
        writer.write(b"HTTP/1.1 " + code + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


async def test_health_asks_both_endpoints_and_tells_down_from_failing(service: int) -> None:
    status = Status(database="d")
    await read_health(status, host="127.0.0.1", ports={"sla": service, "intake": free_port()})
    assert list(status.health) == [
        Health("sla", service, True, False),
        Health("intake", status.health[1].port, None, None),
    ]


async def test_unreachable_kafka_is_reported_not_raised() -> None:
    status = Status(database="d")
    await read_kafka(status, bootstrap=f"127.0.0.1:{free_port()}")
    assert status.kafka_error is not None
    assert status.kafka_error.startswith("KafkaConnectionError")
    assert not status.lags
