"""Where a person's data lies, declared by each collection's owner (issue 20, ADR 0017).

`complaints privacy erase` and `export` (and the retention job) act on these declarations, never
on a collection name of their own: a person is found in intake's `contacts` (by phone or
customer id), which gives their complaint ids; every other collection is reached by the field
holding the complaint id. On erasure a collection's `drop` fields are removed, `delete` removes
its documents whole, and every other text in its documents that holds one of the person's
identifiers (phone, name, address, e-mail, ID or customer number) has them replaced by
`ERASED`: masked text stays masked, free text loses the name, statistics fields stay.
"""

from __future__ import annotations

from dataclasses import dataclass

ERASED = "[已删除]"
"""What replaces an identifier in a text (and marks an erased contact)."""


@dataclass(frozen=True)
class PersonalData:
    """One collection holding a person's data: how to reach it, what erasure does to it."""

    owner: str
    collection: str
    by: str = "_id"
    """The field holding the complaint id."""
    drop: tuple[str, ...] = ()
    """Fields removed by erasure (the identifiers themselves)."""
    delete: bool = False
    """Erasure deletes the documents (they exist only to keep what the person sent)."""


CONTACT_FIELDS = ("phone_e164", "email", "name", "address", "id_number", "customer_id")
"""The identifiers intake keeps in `contacts`; the search keys are `phone_e164`, `customer_id`."""

CONTACTS = PersonalData("intake", "contacts", drop=CONTACT_FIELDS)
PERSONAL_DATA: tuple[PersonalData, ...] = (
    CONTACTS,
    PersonalData("intake", "raw_payloads", delete=True),
    PersonalData("intake", "complaints"),
    PersonalData("intake", "intake_keys", by="complaint_id"),
    PersonalData("classifier", "classifications"),
    PersonalData("classifier", "classification_history"),
    PersonalData("classifier", "corrections", by="complaint_id"),
    PersonalData("sla", "cases"),
    PersonalData("sla", "contact_access", by="complaint_id"),
    PersonalData("notifier", "notifications", by="complaint_id", drop=("address",)),
    PersonalData("notifier", "notifier_assignments"),
)
"""Every collection that may hold a complaint's personal data, contacts first."""

PRIVACY_REQUESTS = PersonalData("privacy", "privacy_requests")
"""The audit of erasures, exports and retention rounds (who, when, which complaints, how many
documents; never the identifiers, only a digest of the one searched for)."""
