"""Notifier's business metrics (labels bounded: channel, audience, status, reason codes)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from contracts import Audience, Satisfaction
from notifier.domain.policy_values import CHANNELS
from servicekit.metrics import LATENCY_BUCKETS, Instruments

DELIVERY_BUCKETS = (*LATENCY_BUCKETS, 300, 900, 3600, 4 * 3600, 12 * 3600)
"""Deferred messages (quiet hours, digests) take hours: the latency buckets reach that far."""


class NotifierMetrics:
    """Sent, failed, deferred per channel and audience; delivery latency; attempts; digests."""

    def __init__(self, registry: CollectorRegistry) -> None:
        kit = Instruments(registry)
        self.outcomes = kit.counter(
            "complaints_notifications_total",
            "Notifications by channel, audience and status (delivered, failed, deferred).",
            ["channel", "audience", "status"],
        )
        self.latency = kit.histogram(
            "complaints_notification_latency_seconds",
            "Trigger event to delivery.",
            ["channel", "audience"],
            buckets=DELIVERY_BUCKETS,
        )
        self.attempts = kit.counter(
            "complaints_notification_attempts_total",
            "Delivery attempts, including retries.",
            ["channel"],
        )
        self.suppressed = kit.counter(
            "complaints_notifications_suppressed_total",
            "Notifications not sent because their key was already taken.",
        )
        self.digests = kit.counter(
            "complaints_notification_digests_total",
            "Digest messages sent instead of a storm of single staff messages.",
            ["channel"],
        )
        self.satisfaction = kit.counter(
            "complaints_satisfaction_answers_total",
            "Answers at callback (001 Art. 54): very_satisfied, satisfied, dissatisfied.",
            ["answer"],
        )
        for answer in Satisfaction:  # at 0, so the satisfaction rate's increase() counts the first
            self.satisfaction.labels(answer.value)
        self.dead_lettered = kit.counter(
            "complaints_notifications_dead_lettered_total",
            "Notifications that failed for good and went to the dead-letter topic.",
            ["channel", "audience"],
        )
        # At 0 from the start, so that `ComplaintsNotificationsDeadLettered` (an increase()) sees
        # the first dead letter after a start grow from 0 (a series first seen at 1 shows none).
        for channel in sorted(CHANNELS):
            for audience in Audience:
                self.dead_lettered.labels(channel, audience.value)
