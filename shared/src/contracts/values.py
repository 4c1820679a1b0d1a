"""Value types shared by the events: channels, kinds, severities, flags, clocks."""

from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

ComplaintId = Annotated[
    str,
    StringConstraints(pattern=r"^CP[0-9]{8}-[0-9A-Z]{10}$"),
    Field(description="Case number assigned by intake, e.g. CP20261124-7K3M9Q2XAB; the Kafka key."),
]
ComplainantKey = Annotated[
    str,
    StringConstraints(pattern=r"^ck_[0-9a-f]{32}$"),
    Field(description="Pseudonymous key: keyed hash of the normalised phone or customer id."),
]

NO_CONTROL = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
"""Text without NUL or other control characters (tab, line feed and carriage return allowed)."""

StaffText = Annotated[
    str,
    StringConstraints(max_length=4000, pattern=NO_CONTROL),
    Field(description="Free text a staff system wrote: at most 4,000 characters, no controls."),
]
StaffRef = Annotated[
    str,
    StringConstraints(max_length=200, pattern=NO_CONTROL),
    Field(description="A staff, department or action reference: at most 200 characters."),
]


class Channel(StrEnum):
    """Where a complaint came in (DOMAIN.md §1)."""

    HOTLINE = "hotline"
    SMS = "sms"
    WEB = "web"
    APP = "app"
    WECHAT = "wechat"
    EMAIL = "email"
    LETTER = "letter"
    FAX = "fax"
    WALK_IN = "walk_in"
    ACCOUNT_MANAGER = "account_manager"
    SUGGESTION_BOX = "suggestion_box"
    SURVEY = "survey"
    FORUM = "forum"
    MEDIA = "media"
    REGULATOR = "regulator"
    SUPERIOR = "superior"
    PARTNER = "partner"

    @property
    def over_level(self) -> bool:
        """Media, regulator and superior channels are over-level (越级) by definition."""
        return self in {Channel.MEDIA, Channel.REGULATOR, Channel.SUPERIOR}


class CustomerTier(StrEnum):
    """Customer tier as channels report it."""

    STANDARD = "standard"
    SILVER = "silver"
    GOLD = "gold"
    PLATINUM = "platinum"
    DIAMOND = "diamond"
    GOVERNMENT = "government"
    ENTERPRISE_A = "enterprise_a"


class Kind(StrEnum):
    """What a message is: only complaints get complaint clocks."""

    COMPLAINT = "complaint"
    ENQUIRY = "enquiry"
    OUT_OF_SCOPE = "out_of_scope"


class Severity(StrEnum):
    """P1 (major) to P4 (general), DOMAIN.md §3."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"

    @property
    def rank(self) -> int:
        """1 for P1 (most severe) … 4 for P4."""
        return int(self.value[1])


class FlagName(StrEnum):
    """Flags carried next to the severity."""

    OVER_LEVEL = "over_level"
    MEDIA = "media"
    LITIGATION = "litigation"
    COLLECTIVE = "collective"
    REPEAT = "repeat"
    HOT_ISSUE = "hot_issue"
    VIP = "vip"
    SAFETY = "safety"
    MASS_INCIDENT = "mass_incident"
    REGULATOR = "regulator"
    SENSITIVE = "sensitive"
    NEEDS_REVIEW = "needs_review"
    DUPLICATE = "duplicate"


class ClockName(StrEnum):
    """The SLA clocks of DOMAIN.md §5."""

    ACKNOWLEDGE = "acknowledge"
    DISPATCH = "dispatch"
    FIRST_CONTACT = "first_contact"
    PRELIMINARY_REPLY = "preliminary_reply"
    PROGRESS_UPDATE = "progress_update"
    RESOLUTION = "resolution"
    CALLBACK = "callback"
    REGULATOR_REPLY = "regulator_reply"
    OUTER_LIMIT = "outer_limit"
    """MIIT: a customer may appeal to the regulator once a complaint is 15 days unanswered."""
    HANDOVER = "handover"
    """首问负责: a requested hand-over not yet accepted or declined by the receiving department."""


class ClockStatus(StrEnum):
    """Where one clock occurrence stands: the SLA's clock sheet, its read model, the case API, the
    cases topic and the CLI all speak this one enum (ADR 0006, addendum of issue 14)."""

    RUNNING = "running"
    """Not at its goal yet (also after its breach: it keeps escalating)."""
    MET = "met"
    CANCELLED = "cancelled"
    DONE = "done"
    """A time-based severity upgrade that fired (it has no goal; never shown as a clock)."""
    BREACHED = "breached"
    """A repeating clock's occurrence past its due, superseded by the next one: final (ADR 0021)."""


SHOWN_CLOCK_STATUSES = frozenset(
    {ClockStatus.RUNNING, ClockStatus.MET, ClockStatus.CANCELLED, ClockStatus.BREACHED}
)
"""The statuses a clock (not an upgrade) can have where a reader sees it."""


class CaseState(StrEnum):
    """Lifecycle states (DOMAIN.md §6)."""

    RECEIVED = "received"
    NORMALIZED = "normalized"
    CLASSIFIED = "classified"
    ACKNOWLEDGED = "acknowledged"
    DISPATCHED = "dispatched"
    IN_PROGRESS = "in_progress"
    AWAITING_CUSTOMER = "awaiting_customer"
    RESOLVED = "resolved"
    CALLBACK_DONE = "callback_done"
    CLOSED = "closed"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    WITHDRAWN = "withdrawn"
    REOPENED = "reopened"
    ROUTED = "routed"
    ENQUIRY = "enquiry"


class Verdict(StrEnum):
    """Verdict recorded on closure (002 Art. 17)."""

    UPHELD = "upheld"
    PARTLY_UPHELD = "partly_upheld"
    BASELESS = "baseless"
    MALICIOUS = "malicious"
    NOT_ACCEPTED = "not_accepted"
    """003: the complaint lacks the evidence it needs; the reason is told to the customer, and it
    never counts against the complainant."""


class Audience(StrEnum):
    """Who a notification is for (DOMAIN.md §7)."""

    CUSTOMER = "customer"
    HANDLER = "handler"
    TEAM_LEAD = "team_lead"
    MANAGER = "manager"
    LEADERSHIP = "leadership"
    MEDIA_CONTACT = "media_contact"
    SECURITY = "security"
    MANAGEMENT = "management"
    OPERATIONS = "operations"
    COMPANY_CONTACT = "company_contact"
    """Who reports hot issues to the company (Vanke: within one working day)."""
    ANTI_FRAUD = "anti_fraud"
    """The anti-fraud desk: told of reports of fraud by others (冒充客服, 诈骗短信, 非法代办卡)."""
