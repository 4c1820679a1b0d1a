"""Declared read models: the only stored documents one service (or the CLI) reads of another's.

A read model names its owner (the service that writes the collection), the collection, the typed
document readers may rely on and a version. Readers project exactly the document's fields and
validate what they get (`servicekit.read_models`), so a layout change fails loudly on both sides:
the owner's contract test (tests/contracts/test_read_models.py) stops validating, and a reader
meets a clear `ReadModelError` instead of silently counting nothing (ADR 0008).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from contracts.complaints import ComplaintClassified
from contracts.values import CaseState, Channel, ClockStatus, FlagName, Kind, Severity

D = TypeVar("D", bound="Document")


class Document(BaseModel):
    """A read model's document: what readers may rely on; the owner may store more."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    id: str = Field(
        alias="_id", description="The document id: the complaint id but for notifications."
    )


@dataclass(frozen=True)
class ReadModel(Generic[D]):
    """One declared read model: owner, collection, typed document, version."""

    name: str
    owner: str
    collection: str
    document: type[D]
    version: int

    @property
    def label(self) -> str:
        """`<owner>.<name>.v<version>`, as errors and docs name it."""
        return f"{self.owner}.{self.name}.v{self.version}"

    def projection(self) -> dict[str, int]:
        """The stored fields the document is made of (dotted into nested documents)."""
        return dict.fromkeys(_paths(self.document), 1)


def _paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Field paths of `model`: nested plain documents by their leaves, anything else whole."""
    paths = []
    for name, info in model.model_fields.items():
        key = f"{prefix}{info.alias or name}"
        inner = _plain_model(info.annotation)
        paths += _paths(inner, f"{key}.") if inner is not None else [key]
    return paths


def _plain_model(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds, when it is a nested document (not an event, list or union)."""
    if isinstance(annotation, type) and issubclass(annotation, Part):
        return annotation
    return None


class Part(BaseModel):
    """A nested part of a read model's document (projected by its own fields)."""

    model_config = ConfigDict(frozen=True, extra="ignore")


# ---------------------------------------------------------------- intake


class ComplaintReceipt(Document):
    """A complaint as intake received it: nothing personal."""

    external_id: str | None = None
    channel: Channel
    received_at: datetime
    duplicate_of: str | None = None


class _NormalizedText(Part):
    text: str


class _NormalizedEvent(Part):
    data: _NormalizedText


class ComplaintText(Document):
    """A complaint's masked text (personal data already masked by intake)."""

    normalized_event: _NormalizedEvent = Field(description="The stored normalized event.")

    @property
    def text(self) -> str:
        """The masked text."""
        return self.normalized_event.data.text


class Contact(Document):
    """How the customer of a complaint can be reached (personal data: never logged)."""

    phone_e164: str | None = None
    email: str | None = None


class StaffContact(Document):
    """What the case API shows staff of a customer's contact: masked, or revealed with an
    access-log entry (personal data: never logged; issue 20)."""

    phone_e164: str | None = None
    name: str | None = None
    address: str | None = None


# ---------------------------------------------------------------- classifier


class Classification(Document):
    """The classifier's decision for a complaint, as counted and charted."""

    kind: Kind
    category: str | None = None
    category_top: str | None = None
    severity: Severity | None = None
    flags: list[FlagName] = Field(default_factory=list)
    duplicate_of: str | None = None


class ClassifiedEvent(Document):
    """The classified event exactly as published (for exports that need its data)."""

    classified_event: ComplaintClassified


# ---------------------------------------------------------------- sla


class ClockSheetEntry(Part):
    """One clock (or time-based upgrade: `clock` None) of a case's sheet (ADR 0006), as readers
    outside the SLA may read it: the stored fields they rely on, not the SLA's `ClockEntry`
    (thresholds, leases and pause credit stay the owner's to change)."""

    key: str
    clock: str | None = None
    severity: str | None = None
    occurrence: int = 1
    status: ClockStatus
    started_at: datetime | None = None
    due_at: datetime | None = None
    stopped_at: datetime | None = None
    passed: list[int] = Field(default_factory=list)
    pause_base: dict[str, Any] | None = None


SHEET_ENTRIES: TypeAdapter[list[ClockSheetEntry]] = TypeAdapter(list[ClockSheetEntry])


def sheet_entries(stored: str | list[Any] | None) -> list[ClockSheetEntry]:
    """A stored clock sheet's entries: v2 keeps the sheet as one JSON text (a list of entries,
    times as ISO 8601; ADR 0028); a list of entry documents was stored before."""
    if stored is None:
        return []
    if isinstance(stored, str):
        return SHEET_ENTRIES.validate_json(stored)
    return SHEET_ENTRIES.validate_python(stored)


def sheet_documents(stored: str | list[Any] | None) -> list[Any]:
    """A stored clock sheet's entries as documents, unvalidated (a reader that skips the entries
    it cannot use validates each with `ClockSheetEntry`); times may be ISO 8601 text."""
    if isinstance(stored, str):
        docs: list[Any] = json.loads(stored)
        return docs
    return list(stored or ())


class CaseSheet(Document):
    """A case's state and its clock sheet (v2: the sheet is one JSON text, `sheet_entries`)."""

    state: CaseState
    sheet: str | list[dict[str, Any]] = Field(
        default="[]",
        alias="clocks",
        description="The clock sheet as JSON text: a list of `ClockSheetEntry` (v2, ADR 0028).",
    )

    @property
    def clocks(self) -> list[ClockSheetEntry]:
        """The sheet's entries, decoded."""
        return sheet_entries(self.sheet)


class CaseFacts(Document):
    """What a what-if replay needs of a case besides its clocks."""

    received_at: datetime
    channel: Channel
    flags: list[FlagName] = Field(default_factory=list)
    severity: Severity
    severity_at_receipt: Severity | None = None
    referral_due_at: datetime | None = None
    pauses: list[dict[str, Any]] = Field(default_factory=list)
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    paused_at: datetime | None = None


# ---------------------------------------------------------------- notifier


class NotificationOutcome(Document):
    """One notification's delivery status."""

    status: str


class CaseDelivery(Document):
    """What became of one notification about a case, as the case API shows it (no recipient,
    no address, no text): the notifier's own row, read by complaint id (ADR 0006 addendum)."""

    complaint_id: str
    audience: str
    template: str
    channel: str | None = Field(None, description="Set once the delivery is settled or waits.")
    status: str
    claimed_at: datetime
    completed_at: datetime | None = Field(None, description="When the outcome was stored.")


COMPLAINT_RECEIPTS = ReadModel("receipts", "intake", "complaints", ComplaintReceipt, 1)
COMPLAINT_TEXTS = ReadModel("texts", "intake", "complaints", ComplaintText, 1)
CONTACTS = ReadModel("contacts", "intake", "contacts", Contact, 1)
STAFF_CONTACTS = ReadModel("staff_contacts", "intake", "contacts", StaffContact, 1)
CLASSIFICATIONS = ReadModel("classifications", "classifier", "classifications", Classification, 1)
CLASSIFIED_EVENTS = ReadModel(
    "classified_events", "classifier", "classifications", ClassifiedEvent, 1
)
CASE_SHEETS = ReadModel("case_sheets", "sla", "cases", CaseSheet, 2)
CASE_FACTS = ReadModel("case_facts", "sla", "cases", CaseFacts, 1)
NOTIFICATION_OUTCOMES = ReadModel(
    "notification_outcomes", "notifier", "notifications", NotificationOutcome, 1
)
CASE_DELIVERIES = ReadModel("case_deliveries", "notifier", "notifications", CaseDelivery, 1)

READ_MODELS: tuple[ReadModel[Any], ...] = (
    COMPLAINT_RECEIPTS,
    COMPLAINT_TEXTS,
    CONTACTS,
    STAFF_CONTACTS,
    CLASSIFICATIONS,
    CLASSIFIED_EVENTS,
    CASE_SHEETS,
    CASE_FACTS,
    NOTIFICATION_OUTCOMES,
    CASE_DELIVERIES,
)
"""Every declared read model."""
