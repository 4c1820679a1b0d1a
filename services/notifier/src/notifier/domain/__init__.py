"""Pure notifier rules: intents from events, template rendering."""

from notifier.domain.intents import (
    Intent,
    acknowledgement_for_non_complaint,
    intents_for_sla,
    notification_key,
)
from notifier.domain.templates import Rendered, TemplateError, Templates

__all__ = [
    "Intent",
    "Rendered",
    "TemplateError",
    "Templates",
    "acknowledgement_for_non_complaint",
    "intents_for_sla",
    "notification_key",
]
