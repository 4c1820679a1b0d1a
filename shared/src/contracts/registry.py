"""Which event types travel on which topic."""

from __future__ import annotations

from pydantic import BaseModel

from contracts.cases import CaseUpdated
from contracts.complaints import ComplaintClassified, ComplaintNormalized, RawComplaintSubmitted
from contracts.deadletter import MessageDeadLettered
from contracts.envelope import Event
from contracts.incidents import IncidentChanged
from contracts.lifecycle import CaseActionRejected, CaseActionTaken, CaseStateChanged
from contracts.notifications import NotificationSent
from contracts.sla import SlaChanged
from contracts.topics import Topic

EVENTS: tuple[type[Event], ...] = (
    ComplaintNormalized,
    ComplaintClassified,
    CaseActionTaken,
    CaseActionRejected,
    CaseStateChanged,
    SlaChanged,
    CaseUpdated,
    IncidentChanged,
    NotificationSent,
    MessageDeadLettered,
)
"""Every enveloped event type, in pipeline order."""

MESSAGES_FOR_TOPIC: dict[Topic, tuple[type[BaseModel], ...]] = {
    Topic.RAW: (RawComplaintSubmitted,),
    **{
        topic: tuple(event for event in EVENTS if event.topic is topic)
        for topic in Topic
        if topic is not Topic.RAW
    },
}
"""Topic → the message models it carries (the raw topic carries channel formats)."""
