"""Pure domain of the classifier: policy packs, rules, text model, history and decisions."""

from classifier.domain.area import area_of
from classifier.domain.classifier import Classifier
from classifier.domain.decision import (
    ClassifierInput,
    Decision,
    History,
    HistoryWindows,
    PriorComplaint,
)
from classifier.domain.normalise import normalise
from classifier.domain.policy import PolicyError

__all__ = [
    "Classifier",
    "ClassifierInput",
    "Decision",
    "History",
    "HistoryWindows",
    "PolicyError",
    "PriorComplaint",
    "area_of",
    "normalise",
]
