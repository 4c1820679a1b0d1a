"""A case's deliveries, read from the notifier's own rows (read model `CASE_DELIVERIES`)."""

from __future__ import annotations

from collections.abc import Sequence

from pymongo.asynchronous.database import AsyncDatabase

from contracts import Audience, DeliveryStatus
from contracts.read_models import CASE_DELIVERIES, CaseDelivery
from servicekit.mongo import Document
from servicekit.read_models import read
from sla.ports import ReceiptSummary

_SETTLED_OR_WAITING = frozenset(s.value for s in DeliveryStatus)
"""Statuses a receipt can carry; a row still being sent (`sending`) has none yet."""


def receipt_from(row: CaseDelivery) -> ReceiptSummary | None:
    """The receipt a notifier row stands for, or None while it is being sent."""
    if row.status not in _SETTLED_OR_WAITING or row.completed_at is None:
        return None
    return ReceiptSummary(
        notification_id=row.id,
        complaint_id=row.complaint_id,
        audience=Audience(row.audience),
        channel=row.channel or "none",
        template=row.template,
        status=DeliveryStatus(row.status),
        at=row.completed_at,
    )


def oldest_first(receipts: Sequence[ReceiptSummary | None]) -> list[ReceiptSummary]:
    """The receipts (Nones dropped) by time, then notification id."""
    return sorted((r for r in receipts if r), key=lambda r: (r.at, r.notification_id))


class MongoCaseDeliveries:
    """One `complaint_id` read of `notifications` (the notifier's index narrows it)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._db = db

    async def of_case(self, complaint_id: str) -> list[ReceiptSummary]:
        """The case's settled or waiting deliveries, oldest first."""
        rows = await read(self._db, CASE_DELIVERIES, {"complaint_id": complaint_id})
        return oldest_first([receipt_from(row) for row in rows])


class InMemoryCaseDeliveries:
    """The notifier's rows as a test hands them over."""

    def __init__(self) -> None:
        self.rows: dict[str, CaseDelivery] = {}

    def put(self, *rows: CaseDelivery) -> None:
        """Store (or replace) rows by notification id, as the notifier would."""
        self.rows |= {row.id: row for row in rows}

    async def of_case(self, complaint_id: str) -> list[ReceiptSummary]:
        """The case's settled or waiting deliveries, oldest first."""
        rows = (r for r in self.rows.values() if r.complaint_id == complaint_id)
        return oldest_first([receipt_from(row) for row in rows])
