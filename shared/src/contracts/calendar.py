"""A stretch of the SLA's business calendar as data: what `python -m sla.tools.calendar` prints.

The SLA owns the calendar (official working days, 调休 makeup days, the packs' working hours, the
overrides). A tool that needs working time without running the SLA's code — the demo's staff,
pacing their steps in working hours — asks the SLA's tool for the periods of the days it needs and
counts over them (ADR 0014).
"""

from __future__ import annotations

from datetime import date
from itertools import pairwise

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

Period = tuple[AwareDatetime, AwareDatetime]


class WorkingPeriods(BaseModel):
    """Every working period from `first_day` to `last_day` (local days, both included), in order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timezone: str = Field(description="IANA zone the calendar's days are counted in.")
    version: str = Field(description="The calendar's version (holiday data and overrides).")
    first_day: date
    last_day: date
    periods: tuple[Period, ...] = Field(
        description="Start and end of each working period, ordered, none overlapping."
    )

    @model_validator(mode="after")
    def _ordered(self) -> WorkingPeriods:
        if self.last_day < self.first_day:
            raise ValueError("last_day is before first_day")
        for start, end in self.periods:
            if end <= start:
                raise ValueError(f"a working period ends before it starts: {start}")
        for (_, end), (start, _) in pairwise(self.periods):
            if start < end:
                raise ValueError(f"working periods overlap or are out of order at {start}")
        return self
