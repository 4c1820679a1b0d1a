"""Contracts of the complaint pipeline: the only place topics and event schemas are defined."""

from contracts.complaints import (
    ClassifiedComplaint,
    ComplaintClassified,
    ComplaintNormalized,
    Flag,
    MaskedComplainant,
    NormalizedComplaint,
    RawComplainant,
    RawComplaintSubmitted,
    Reason,
)
from contracts.deadletter import DeadLetter, MessageDeadLettered
from contracts.envelope import Event, Model
from contracts.lifecycle import (
    ActionRejection,
    CaseAction,
    CaseActionRejected,
    CaseActionTaken,
    LifecycleAction,
    LifecycleEvent,
    Satisfaction,
)
from contracts.notifications import DeliveryStatus, NotificationReceipt, NotificationSent
from contracts.registry import EVENTS, MESSAGES_FOR_TOPIC
from contracts.sla import DeadlineView, SlaChange, SlaChanged, SlaEventKind
from contracts.topics import PARTITIONS, RETENTION_DAYS, Topic
from contracts.values import (
    Audience,
    CaseState,
    Channel,
    ClockName,
    ComplainantKey,
    ComplaintId,
    CustomerTier,
    FlagName,
    Kind,
    Severity,
    Verdict,
)

__all__ = [
    "EVENTS",
    "MESSAGES_FOR_TOPIC",
    "PARTITIONS",
    "RETENTION_DAYS",
    "ActionRejection",
    "Audience",
    "CaseAction",
    "CaseActionRejected",
    "CaseActionTaken",
    "CaseState",
    "Channel",
    "ClassifiedComplaint",
    "ClockName",
    "ComplainantKey",
    "ComplaintClassified",
    "ComplaintId",
    "ComplaintNormalized",
    "CustomerTier",
    "DeadLetter",
    "DeadlineView",
    "DeliveryStatus",
    "Event",
    "Flag",
    "FlagName",
    "Kind",
    "LifecycleAction",
    "LifecycleEvent",
    "MaskedComplainant",
    "MessageDeadLettered",
    "Model",
    "NormalizedComplaint",
    "NotificationReceipt",
    "NotificationSent",
    "RawComplainant",
    "RawComplaintSubmitted",
    "Reason",
    "Satisfaction",
    "Severity",
    "SlaChange",
    "SlaChanged",
    "SlaEventKind",
    "Topic",
    "Verdict",
]
