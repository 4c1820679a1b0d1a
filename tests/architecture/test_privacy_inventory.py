"""Every field that looks like personal data has a row in docs/privacy.md (issue 20).

Walks the event contracts (each topic's `data` model, nested) and the stored documents (intake's
contact record, the notifier's claim, the declared read models) and fails for a field whose name
looks personal — phone, name, address, e-mail, ID or customer number, recipient, free text — that
the inventory does not list for that collection or topic. Names that look personal but are not
(a machine reason code, a template name) are in `NOT_PERSONAL`, each with why.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel

import contracts
from contracts.erasure import PERSONAL_DATA, PRIVACY_REQUESTS
from contracts.read_models import READ_MODELS
from intake.domain.results import Contact

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = ROOT / "docs" / "privacy.md"
PERSONAL = re.compile(
    r"phone|name|address|e_?mail|id_number|id_card|customer_id|recipient|contact|"
    r"text|note|result|root_cause|reason|complainant|payload|original|actor|assignee|approver"
    r"|owner"
)
NOT_PERSONAL: dict[tuple[str, str], str] = {
    ("complaints.classified.v1", "flags.name"): "a flag's rule name (repeat, media, …)",
    ("classifications", "classified_event.data.flags.name"): "a flag's rule name",
    ("complaints.normalized.v1", "complainant"): "the object; its leaves have rows",
    ("complaints.normalized.v1", "complainant.has_email"): "whether an e-mail is on file",
    ("complaints.normalized.v1", "complainant.has_phone"): "whether a phone is on file",
    ("complaints.lifecycle.v1", "actor_role"): "handler, lead or manager",
    ("complaints.lifecycle.v1", "owner_department"): "a department's name",
    ("complaints.dlq.v1", "reason"): "a machine reason code",
    ("complaints.dlq.v1", "original_topic"): "a topic name",
    ("complaints.dlq.v1", "payload_length"): "a byte count",
    ("complaints.dlq.v1", "payload_omitted"): "whether the bytes were left out",
    ("complaints.dlq.v1", "payload_sha256"): "a digest of the bytes",
}
"""(collection or topic, field path) → why a personal-looking name holds nothing personal."""


def inventory() -> set[tuple[str, str]]:
    """(collection or topic, field) pairs the inventory's tables list."""
    rows: set[tuple[str, str]] = set()
    for line in INVENTORY.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 5 or not cells[0].startswith("`"):
            continue
        where = cells[0].split("`")[1]
        for field in re.findall(r"`([^`]+)`", cells[1]):
            rows.add((where, field))
    return rows


def model_paths(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """Field paths of a pydantic model, nested models by their leaves."""
    for name, info in model.model_fields.items():
        path = f"{prefix}{info.alias or name}"
        yield path
        for sub in (info.annotation, *typing.get_args(info.annotation)):
            for inner in (sub, *typing.get_args(sub)):
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    yield from model_paths(inner, f"{path}.")


def events() -> Iterator[tuple[str, str]]:
    """(topic, field path) of every event contract's data."""
    for name in dir(contracts):
        kind = getattr(contracts, name)
        if not (isinstance(kind, type) and issubclass(kind, contracts.Event)):
            continue
        if kind is not contracts.Event:
            data = kind.model_fields["data"].annotation
            assert isinstance(data, type)
            for path in model_paths(data):
                yield kind.topic.value, path


def stored() -> Iterator[tuple[str, str]]:
    """(collection, field path) of the stored documents."""
    for field in dataclasses.fields(Contact):
        yield "contacts", field.name
    for model in READ_MODELS:
        for path in model_paths(model.document):
            yield model.collection, path


def listed(where: str, path: str, rows: set[tuple[str, str]]) -> bool:
    """Whether the inventory lists the field: by its path, or by its leaf name."""
    leaf = path.rsplit(".", 1)[-1]
    return any((where, candidate) in rows for candidate in (path, leaf))


def test_every_personal_looking_field_is_in_the_inventory() -> None:
    rows = inventory()
    missing = sorted(
        f"{where}: {path}"
        for where, path in {*events(), *stored()}
        if PERSONAL.search(path.rsplit(".", 1)[-1])
        and not listed(where, path, rows)
        and (where, path) not in NOT_PERSONAL
    )
    assert missing == [], "add these to docs/privacy.md (or to NOT_PERSONAL, with why)"


COLLECTION = re.compile(r"""(?:db|database)\[\s*["']([a-z_]+)["']\s*\]""")
NOTHING_PERSONAL: dict[str, str] = {
    "deadline_slots": "complaint ids and due times",
    "scheduler_state": "the scheduler's own marks",
    "census": "clock counts by clock, severity, status and outcome",
    "held_receipts": "complaint id, a notification id and its delivery time",
    "classification_tally": "decisions counted per minute, category path and tier",
    "classification_issue_counts": "writes counted per place issue (a digest)",
    "incidents": "incident ids, categories, member complaint ids",
    "incident_members": "complaint id → incident id and category",
    "complainants": "a complainant key's verdict history (pseudonymous; the key has its row)",
    "staff": "the staff directory (staff's own contacts, not a complainant's)",
}
"""Collections erasure leaves alone, and why."""


def collections() -> set[str]:
    """Every collection a service's code names (`db["…"]`)."""
    return {
        name
        for path in (ROOT / "services").glob("*/src/**/*.py")
        for name in COLLECTION.findall(path.read_text(encoding="utf-8"))
    }


def test_every_collection_is_in_the_inventory_and_declared_for_erasure() -> None:
    """docs/privacy.md names every collection; each is reached by erasure or says why not."""
    found = collections()
    assert {"contacts", "cases", "notifications", "contact_access"} <= found
    text = INVENTORY.read_text(encoding="utf-8")
    named = {*found, PRIVACY_REQUESTS.collection}
    assert sorted(c for c in named if f"`{c}`" not in text) == [], "add rows to docs/privacy.md"
    declared = {d.collection for d in PERSONAL_DATA}
    assert sorted(found - declared - set(NOTHING_PERSONAL)) == [], "declare in contracts.erasure"


def test_the_check_catches_a_new_personal_field() -> None:
    """The walk sees nested fields, and a personal-looking name without a row is reported."""

    class Inner(BaseModel):
        home_address: str

    class Probe(BaseModel):
        inner: Inner | None = None

    paths = list(model_paths(Probe))
    assert "inner.home_address" in paths
    leaf = paths[-1].rsplit(".", 1)[-1]
    assert PERSONAL.search(leaf)
    assert not listed("contacts", "inner.home_address", inventory())
    assert listed("contacts", "phone_e164", inventory())
