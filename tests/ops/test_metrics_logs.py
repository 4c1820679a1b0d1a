"""Structured logs: the complaint id as correlation id where one is known, personal data masked."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from servicekit.delivery import DeliveryPolicy, Inbound, Rejection, complaint_id
from servicekit.logs import JsonFormatter, correlated
from tests._builders.delivery import CID, policy

OTHER = "CP20261124-AAAABBBB22"
HANDLER_LOG = logging.getLogger("tests.ops.handler")


class JsonLines:
    """Collects what the JSON formatter writes."""

    def __init__(self) -> None:
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(JsonFormatter("sla"))

    def parsed(self) -> list[dict[str, Any]]:
        """Every line so far, parsed."""
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]


@pytest.fixture
def logs() -> Iterator[JsonLines]:
    """JSON log lines of every logger, at INFO and above, during the test."""
    lines = JsonLines()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(lines.handler)
    root.setLevel(logging.INFO)
    try:
        yield lines
    finally:
        root.removeHandler(lines.handler)
        root.setLevel(previous)


def record(offset: int, key: bytes | None) -> Inbound:
    return Inbound("complaints.classified.v1", 0, offset, key, b"{}", 1)


def delivery() -> DeliveryPolicy:
    return policy(CollectorRegistry())[0]


async def logging_handler(messages: Sequence[Inbound]) -> Sequence[Rejection]:
    HANDLER_LOG.info("working on %d messages", len(messages))
    return []


def test_only_complaint_ids_count_as_correlation_ids() -> None:
    assert complaint_id(record(1, CID.encode())) == CID
    assert complaint_id(record(1, b"hotline:13812345678")) is None  # intake's raw keys
    assert complaint_id(record(1, None)) is None
    assert complaint_id(record(1, b"\xff\xfe")) is None


async def test_a_single_message_logs_under_its_complaint_id(logs: JsonLines) -> None:
    await delivery().run([record(1, CID.encode())], logging_handler)
    await delivery().run([record(2, CID.encode()), record(3, OTHER.encode())], logging_handler)
    single, batch = logs.parsed()
    assert single["complaint_id"] == CID
    assert "complaint_id" not in batch  # two complaints: no single id to name


async def test_isolated_poison_and_its_dead_letter_log_under_its_own_id(
    logs: JsonLines,
) -> None:
    async def fails_on_other(messages: Sequence[Inbound]) -> Sequence[Rejection]:
        if any(m.key == OTHER.encode() for m in messages):
            raise ValueError("cannot handle")
        HANDLER_LOG.info("handled")
        return []

    await delivery().run([record(1, CID.encode()), record(2, OTHER.encode())], fails_on_other)
    by_message = {line["message"]: line for line in logs.parsed()}
    assert "complaint_id" not in by_message["batch failed; isolating the poison message one by one"]
    assert by_message["handled"]["complaint_id"] == CID
    assert by_message["giving up on message"]["complaint_id"] == OTHER
    assert by_message["dead-lettered"]["complaint_id"] == OTHER
    assert by_message["dead-lettered"]["reason"] == "processing_error"


async def test_the_correlation_id_ends_with_its_block(logs: JsonLines) -> None:
    with correlated(CID):
        HANDLER_LOG.info("inside")
        with correlated(None):
            HANDLER_LOG.info("nested without id")
    HANDLER_LOG.info("after")
    assert [line.get("complaint_id") for line in logs.parsed()] == [CID, None, None]


async def test_personal_data_is_masked_in_messages_and_fields(logs: JsonLines) -> None:
    with correlated(CID):
        HANDLER_LOG.warning(
            "customer 13812345678 wrote from a@example.com",
            extra={"fields": {"detail": "ID 110101199003071234, tel 010-62345678"}},
        )
    [line] = logs.parsed()
    text = json.dumps(line, ensure_ascii=False)
    for secret in ("13812345678", "a@example.com", "110101199003071234", "62345678"):
        assert secret not in text
    assert line["message"] == "customer <phone> wrote from <email>"
    assert line["detail"] == "ID <id-number>, tel <phone>"
    assert line["complaint_id"] == CID
    assert line["service"] == "sla"
