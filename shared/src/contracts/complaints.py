"""Events of a complaint's way in: raw submission, normalised, classified."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime, ConfigDict, Field

from contracts.envelope import Event, Model
from contracts.topics import Topic
from contracts.values import (
    Channel,
    ComplainantKey,
    ComplaintId,
    CustomerTier,
    FlagName,
    Kind,
    Severity,
)


class RawComplainant(Model):
    """Contact details as a channel sends them (personal data: never on broad topics)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    phone: str | None = Field(None, description="Phone number in any common format.")
    name: str | None = Field(None, description="Complainant's name.")
    customer_id: str | None = Field(None, description="Account or customer number.")
    tier: str | None = Field(None, description="Customer tier (standard, silver, gold, …).")
    email: str | None = Field(None, description="E-mail address for replies.")
    id_number: str | None = Field(None, description="Resident identity card number, if given.")
    address: str | None = Field(None, description="Postal address, if given.")


class RawComplaintSubmitted(Model):
    """The generic JSON format every channel can publish to `complaints.raw.v1`.

    Channel adapters (hotline note, SMS, e-mail, referral, letter) send their own shapes with a
    `format` field instead; intake turns every shape into this one. Unknown fields are kept.
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    topic: ClassVar[Topic] = Topic.RAW

    channel: str = Field(description="Channel code, see `Channel`.")
    external_id: str | None = Field(
        None, description="The channel's own reference; (channel, external_id) is idempotent."
    )
    received_at: str | None = Field(
        None, description="ISO 8601 time of receipt; a naive time is read as Asia/Shanghai."
    )
    text: str = Field(description="The complaint as the customer or agent wrote it.")
    complainant: RawComplainant | None = Field(None, description="Contact details.")


class MaskedComplainant(Model):
    """What broad topics may carry about the complainant."""

    name: str | None = Field(None, description="Masked name, e.g. 张*.")
    phone: str | None = Field(None, description="Masked E.164 phone, e.g. +86138****5678.")
    tier: CustomerTier = Field(CustomerTier.STANDARD, description="Customer tier.")
    has_phone: bool = Field(False, description="A phone number is on file for SMS replies.")
    has_email: bool = Field(False, description="An e-mail address is on file.")


class NormalizedComplaint(Model):
    """A complaint after validation and normalisation, personal data masked."""

    schema_version: Literal[1] = Field(1, description="Version of this data schema.")
    complaint_id: ComplaintId
    channel: Channel = Field(description="Channel the complaint came in through.")
    external_id: str | None = Field(None, description="The channel's own reference.")
    received_at: AwareDatetime = Field(description="Time of receipt, UTC.")
    received_at_local: str = Field(description="Time of receipt in Asia/Shanghai, for display.")
    text: str = Field(description="Normalised text, personal data masked.")
    text_simplified: str = Field(description="Simplified-Chinese copy of `text` for matching.")
    complainant_key: ComplainantKey | None = Field(
        None, description="Pseudonymous key; absent when the complainant left no identifier."
    )
    complainant: MaskedComplainant = Field(description="Masked contact summary.")
    referral: dict[str, str] = Field(
        default_factory=dict,
        description="For regulator / superior referrals: referring body, their case number.",
    )
    referral_due_at: AwareDatetime | None = Field(
        None, description="Deadline set by the referring body, if any (UTC)."
    )
    duplicate_of: ComplaintId | None = Field(
        None, description="Earlier complaint this one near-duplicates (same complainant, text)."
    )


class ComplaintNormalized(Event):
    """Intake accepted a complaint."""

    topic: ClassVar[Topic] = Topic.NORMALIZED
    type: Literal["cn.complaints.normalized.v1"] = "cn.complaints.normalized.v1"
    data: NormalizedComplaint


class Flag(Model):
    """A flag with what made it fire."""

    name: FlagName
    detail: str | None = Field(None, description="Human-readable reason, in Chinese or English.")
    count: int | None = Field(None, description="Head count (collective) or repeat count.")
    related: list[ComplaintId] = Field(
        default_factory=list, description="Earlier complaints (repeat, hot issue, incident)."
    )


class Reason(Model):
    """One rule or model output that contributed to the decision."""

    rule: str = Field(description="Rule id from the policy pack, or `model`.")
    effect: str = Field(description="What it decided, e.g. `severity=P2`, `category=billing`.")
    matched: list[str] = Field(default_factory=list, description="Words or patterns matched.")


class ClassifiedComplaint(Model):
    """The classifier's decision, with everything downstream needs to act on it."""

    schema_version: Literal[1] = Field(1, description="Version of this data schema.")
    complaint_id: ComplaintId
    channel: Channel
    received_at: AwareDatetime = Field(description="Time of receipt, UTC (clocks start here).")
    complainant_key: ComplainantKey | None = None
    customer_tier: CustomerTier = CustomerTier.STANDARD
    kind: Kind
    category: str | None = Field(
        None, description="Category path, e.g. billing/unknown_deduction; none for non-complaints."
    )
    severity: Severity | None = Field(None, description="P1–P4; none for non-complaints.")
    flags: list[Flag] = Field(default_factory=list)
    confidence: float = Field(ge=0.0, le=1.0, description="Confidence of the category decision.")
    explanation: list[Reason] = Field(default_factory=list)
    model_version: str = Field(description="Version of the statistical model used.")
    policy: str = Field(description="Policy pack name, e.g. telecom.")
    policy_version: str = Field(description="Policy pack version.")
    referral_due_at: AwareDatetime | None = Field(None, description="Referring body's deadline.")
    duplicate_of: ComplaintId | None = None
    incident_id: str | None = Field(None, description="Mass-incident record, if part of one.")

    def has_flag(self, name: FlagName) -> bool:
        """Whether the decision carries `name`."""
        return any(flag.name == name for flag in self.flags)


class ComplaintClassified(Event):
    """The classifier decided kind, category, severity and flags."""

    topic: ClassVar[Topic] = Topic.CLASSIFIED
    type: Literal["cn.complaints.classified.v1"] = "cn.complaints.classified.v1"
    data: ClassifiedComplaint


def extra_fields(model: Model) -> dict[str, Any]:
    """Fields a channel sent that the schema does not know (kept, never dropped)."""
    return dict(model.model_extra or {})
