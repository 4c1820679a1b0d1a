"""Intake's business metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from servicekit.metrics import LATENCY_BUCKETS


class IntakeMetrics:
    """Received per channel, rejected per reason, duplicates, processing latency."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.received = Counter(
            "complaints_received_total",
            "Messages received, by channel (unknown for unparseable input).",
            ["channel"],
            registry=registry,
        )
        self.accepted = Counter(
            "complaints_accepted_total",
            "Complaints accepted, by channel.",
            ["channel"],
            registry=registry,
        )
        self.rejected = Counter(
            "complaints_rejected_total",
            "Messages rejected, by reason code.",
            ["reason"],
            registry=registry,
        )
        self.duplicates = Counter(
            "complaints_duplicates_total",
            "Near-duplicate complaints linked to an earlier one.",
            registry=registry,
        )
        self.replays = Counter(
            "complaints_replays_total",
            "Messages for a (channel, external id) already taken in.",
            registry=registry,
        )
        self.http_requests = Counter(
            "complaints_http_requests_total",
            "POST /complaints requests, by HTTP status.",
            ["status"],
            registry=registry,
        )
        self.processing = Histogram(
            "complaints_intake_processing_seconds",
            "Validation and normalisation time per message.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
