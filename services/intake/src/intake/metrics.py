"""Intake's business metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from servicekit.metrics import Instruments


class IntakeMetrics:
    """Received per channel, rejected per reason, duplicates, processing latency."""

    def __init__(self, registry: CollectorRegistry) -> None:
        kit = Instruments(registry)
        self.received = kit.counter(
            "complaints_received_total",
            "Messages received, by channel (unknown for unparseable input).",
            ["channel"],
        )
        self.accepted = kit.counter(
            "complaints_accepted_total", "Complaints accepted, by channel.", ["channel"]
        )
        self.rejected = kit.counter(
            "complaints_rejected_total", "Messages rejected, by reason code.", ["reason"]
        )
        self.duplicates = kit.counter(
            "complaints_duplicates_total", "Near-duplicate complaints linked to an earlier one."
        )
        self.replays = kit.counter(
            "complaints_replays_total", "Messages for a (channel, external id) already taken in."
        )
        self.http_requests = kit.counter(
            "complaints_http_requests_total",
            "POST /complaints requests, by HTTP status.",
            ["status"],
        )
        self.processing = kit.histogram(
            "complaints_intake_processing_seconds", "Validation and normalisation time per message."
        )
