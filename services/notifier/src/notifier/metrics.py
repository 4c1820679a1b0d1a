"""Notifier's business metrics (labels bounded: channel, audience, status, reason codes)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from servicekit.metrics import LATENCY_BUCKETS

DELIVERY_BUCKETS = (*LATENCY_BUCKETS, 300, 900, 3600, 4 * 3600, 12 * 3600)
"""Deferred messages (quiet hours, digests) take hours: the latency buckets reach that far."""


class NotifierMetrics:
    """Sent, failed, deferred per channel and audience; delivery latency; attempts; digests."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.outcomes = Counter(
            "complaints_notifications_total",
            "Notifications by channel, audience and status (delivered, failed, deferred).",
            ["channel", "audience", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "complaints_notification_latency_seconds",
            "Trigger event to delivery.",
            ["channel", "audience"],
            buckets=DELIVERY_BUCKETS,
            registry=registry,
        )
        self.attempts = Counter(
            "complaints_notification_attempts_total",
            "Delivery attempts, including retries.",
            ["channel"],
            registry=registry,
        )
        self.suppressed = Counter(
            "complaints_notifications_suppressed_total",
            "Notifications not sent because their key was already taken.",
            registry=registry,
        )
        self.digests = Counter(
            "complaints_notification_digests_total",
            "Digest messages sent instead of a storm of single staff messages.",
            ["channel"],
            registry=registry,
        )
        self.satisfaction = Counter(
            "complaints_satisfaction_answers_total",
            "Answers at callback (001 Art. 54): very_satisfied, satisfied, dissatisfied.",
            ["answer"],
            registry=registry,
        )
        self.dead_lettered = Counter(
            "complaints_notifications_dead_lettered_total",
            "Notifications that failed for good and went to the dead-letter topic.",
            ["channel", "audience"],
            registry=registry,
        )
