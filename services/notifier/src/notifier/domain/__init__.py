"""Pure notifier rules: routing, recipients, templates, quiet hours, digests, rate limits."""

from notifier.domain.incident_policy import IncidentPolicy
from notifier.domain.incidents import IncidentMember, IncidentRouter, members_of
from notifier.domain.intent import Intent, Origin, local_time, notification_key
from notifier.domain.intents import Router
from notifier.domain.limits import RateLimiter
from notifier.domain.policy import (
    DigestPolicy,
    NotifierPolicy,
    QuietHours,
    RateLimit,
    Rule,
)
from notifier.domain.policy_values import PolicyError
from notifier.domain.recipients import (
    CUSTOMER,
    Assignment,
    CustomerContact,
    Delivery,
    Recipient,
    StaffEntry,
    customer_recipient,
    deliveries_for,
    mask_email,
    mask_phone,
    parse_directory,
    staff_recipients,
)
from notifier.domain.schedule import (
    DIGEST,
    QUIET_HOURS,
    RATE_LIMITED,
    DigestGate,
    Plan,
    Planner,
    quiet_until,
)
from notifier.domain.templates import Rendered, TemplateError, Templates

__all__ = [
    "CUSTOMER",
    "DIGEST",
    "QUIET_HOURS",
    "RATE_LIMITED",
    "Assignment",
    "CustomerContact",
    "Delivery",
    "DigestGate",
    "DigestPolicy",
    "IncidentMember",
    "IncidentPolicy",
    "IncidentRouter",
    "Intent",
    "NotifierPolicy",
    "Origin",
    "Plan",
    "Planner",
    "PolicyError",
    "QuietHours",
    "RateLimit",
    "RateLimiter",
    "Recipient",
    "Rendered",
    "Router",
    "Rule",
    "StaffEntry",
    "TemplateError",
    "Templates",
    "customer_recipient",
    "deliveries_for",
    "local_time",
    "mask_email",
    "mask_phone",
    "members_of",
    "notification_key",
    "parse_directory",
    "quiet_until",
    "staff_recipients",
]
