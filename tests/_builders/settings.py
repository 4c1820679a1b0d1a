"""Each service's settings class, by service name (deployment files are checked against them)."""

from __future__ import annotations

from classifier.settings import ClassifierSettings
from intake.settings import IntakeSettings
from notifier.settings import NotifierSettings
from servicekit.settings import ServiceSettings
from sla.settings import SlaSettings

SETTINGS: dict[str, type[ServiceSettings]] = {
    "intake": IntakeSettings,
    "classifier": ClassifierSettings,
    "sla": SlaSettings,
    "notifier": NotifierSettings,
}
