"""CaseWork: the ports and rules every use case on case documents works with, named once."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Self

from servicekit.clock import Clock
from sla.domain import BusinessCalendar, SlaPolicy
from sla.metrics import SlaMetrics
from sla.ports import CaseStore, DueIndex, Publish


@dataclass
class CaseWork:
    """Policy, calendar, case store, due index, publisher, clock and metrics."""

    policy: SlaPolicy
    calendar: BusinessCalendar
    cases: CaseStore
    index: DueIndex
    publish: Publish
    clock: Clock
    metrics: SlaMetrics

    @classmethod
    def using(cls, work: CaseWork, **extra: Any) -> Self:
        """This use case on `work`'s ports; `extra` are its own fields (a wake, a concurrency)."""
        shared = {f.name: getattr(work, f.name) for f in fields(CaseWork)}
        return cls(**shared, **extra)
