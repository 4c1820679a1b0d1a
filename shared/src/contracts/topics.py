"""Every Kafka topic of the pipeline. No other module spells a topic name."""

from enum import StrEnum


class Topic(StrEnum):
    """Kafka topics, one event family each, keyed by complaint id (incidents: incident id)."""

    RAW = "complaints.raw.v1"
    """What channels send, as they send it (generic JSON or a channel adapter's format)."""
    NORMALIZED = "complaints.normalized.v1"
    """Validated, normalised complaints with personal data masked."""
    CLASSIFIED = "complaints.classified.v1"
    """Kind, category, severity and flags decided, with explanations."""
    LIFECYCLE = "complaints.lifecycle.v1"
    """Staff-side actions on a case, and the SLA service's rejections of illegal ones."""
    SLA = "complaints.sla.v1"
    """Deadlines set, warned, breached, escalated, met, upgraded."""
    CASES = "complaints.cases.v1"
    """Each case's latest state, compacted: read from the beginning to bootstrap (ADR 0011)."""
    INCIDENTS = "complaints.incidents.v1"
    """Mass incidents opened, grown, closed, merged; keyed by incident id, no personal data."""
    NOTIFICATION_SENT = "notifications.sent.v1"
    """Delivery receipts: delivered, failed or deferred."""
    DLQ = "complaints.dlq.v1"
    """Messages no service could process, with the reason and the original bytes."""


PARTITIONS: dict[Topic, int] = {
    Topic.RAW: 6,
    Topic.NORMALIZED: 6,
    Topic.CLASSIFIED: 6,
    Topic.LIFECYCLE: 6,
    Topic.SLA: 6,
    Topic.CASES: 6,
    Topic.INCIDENTS: 3,
    Topic.NOTIFICATION_SENT: 3,
    Topic.DLQ: 3,
}
"""Partition counts: the ceiling on consumer replicas per service."""

RETENTION_DAYS: dict[Topic, int] = {
    Topic.RAW: 14,
    Topic.NORMALIZED: 14,
    Topic.CLASSIFIED: 14,
    Topic.LIFECYCLE: 30,
    Topic.SLA: 30,
    Topic.INCIDENTS: 90,
    Topic.NOTIFICATION_SENT: 30,
    Topic.DLQ: 90,
}
"""Retention per topic; the dead-letter topic is kept longest so operators can replay it."""

COMPACTED: frozenset[Topic] = frozenset({Topic.CASES})
"""Topics kept by key, not by time: the latest record per complaint stays, older ones go."""


def topic_config(topic: Topic) -> dict[str, str]:
    """The topic-level configuration a topic is created with."""
    if topic in COMPACTED:
        # Compacted, never deleted by age: a new reader must find every case. Segments roll
        # daily so the cleaner can compact them; a record stays at least a minute uncompacted.
        return {
            "cleanup.policy": "compact",
            "segment.ms": str(86_400_000),
            "min.compaction.lag.ms": str(60_000),
        }
    return {"cleanup.policy": "delete", "retention.ms": str(RETENTION_DAYS[topic] * 86_400_000)}
