"""Pure domain of the classifier: policy packs, rules, text model, history and decisions."""

from classifier.domain.area import area_of
from classifier.domain.batch_history import BatchHistory
from classifier.domain.classifier import Classifier
from classifier.domain.decision import (
    ClassifierInput,
    Decision,
    History,
    HistoryWindows,
    PriorComplaint,
)
from classifier.domain.incident import (
    WIDE,
    IncidentKey,
    IncidentSighting,
    KnownIncident,
    Placement,
    merge_sightings,
    place,
)
from classifier.domain.incident_control import IncidentRow, Standing, changed, incident_ref
from classifier.domain.incident_news import IncidentState, Member, news
from classifier.domain.normalise import normalise
from classifier.domain.policy import PolicyError

__all__ = [
    "WIDE",
    "BatchHistory",
    "Classifier",
    "ClassifierInput",
    "Decision",
    "History",
    "HistoryWindows",
    "IncidentKey",
    "IncidentRow",
    "IncidentSighting",
    "IncidentState",
    "KnownIncident",
    "Member",
    "Placement",
    "PolicyError",
    "PriorComplaint",
    "Standing",
    "area_of",
    "changed",
    "incident_ref",
    "merge_sightings",
    "news",
    "normalise",
    "place",
]
