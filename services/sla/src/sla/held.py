"""Acknowledgements ahead of their case: the SLA reads the classified and the receipts topics on
their own, so under load a delivered acknowledgement can arrive before its case is stored. It is
kept (`held_receipts`) until the case starts, which then starts acknowledged
(`sla.casework.receipts`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class HeldReceipt:
    """A delivered acknowledgement kept for its case."""

    complaint_id: str
    entry_id: str  # `receipt:<notification id>`, the history row's id
    at: datetime


class HeldReceipts(Protocol):
    """Part of the case store: the acknowledgements kept until their case starts."""

    async def hold_receipts(self, receipts: Sequence[HeldReceipt]) -> None:
        """Keep acknowledgements whose case is not stored yet (the first kept per case stays)."""

    async def held_receipts(self, complaint_ids: Sequence[str]) -> dict[str, HeldReceipt]:
        """The kept acknowledgements of these cases, in one read."""

    async def drop_receipts(self, complaint_ids: Sequence[str]) -> None:
        """Forget the kept acknowledgements of these cases (their cases have them now)."""
