"""Mass incidents (批量投诉): one record per outage or rating error, and what happens to it."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from contracts.envelope import Event, Model
from contracts.topics import Topic
from contracts.values import Channel, ComplaintId, CustomerTier

INCIDENT_ACTOR = "incident:"
"""Prefix of the actor the SLA service names on a member case its incident's close resolved."""


def incident_actor(incident_id: str) -> str:
    """The actor of a member case resolved by this incident's close (a CaseAction's 200 chars)."""
    return f"{INCIDENT_ACTOR}{incident_id}"[:200]


class IncidentChange(StrEnum):
    """What happened to an incident."""

    OPENED = "opened"
    GROWN = "grown"
    CLOSED = "closed"
    MERGED = "merged"
    MEMBER_REMOVED = "member_removed"


class IncidentCounts(Model):
    """How many member complaints came in per channel and per customer tier."""

    total: int = Field(ge=0, description="Member complaints.")
    important: int = Field(
        0, ge=0, description="Members from customers of the tiers the pack counts as important."
    )
    by_channel: dict[Channel, int] = Field(
        default_factory=dict, description="Member complaints per intake channel."
    )
    by_tier: dict[CustomerTier, int] = Field(
        default_factory=dict, description="Member complaints per customer tier."
    )


class IncidentRecord(Model):
    """One mass incident as it stands after the change; never carries personal data."""

    schema_version: Literal[1] = Field(1, description="Version of this data schema.")
    incident_id: str = Field(description="Stable id: the issue key of the burst that opened it.")
    change: IncidentChange
    sequence: int = Field(
        ge=1, description="Grows with every change of this incident; consumers keep the highest."
    )
    category: str = Field(description="Category path the members share, e.g. network/no_signal.")
    area: str | None = Field(
        None, description="Place the members share (from the text), or none for a wide-area issue."
    )
    issue_key: str = Field(description="What the members share: `<category>|<area or *>`.")
    opened_by: Literal["ordinary", "important"] = Field(
        description="Which threshold opened it: N complaints, or M important customers."
    )
    opened_with: int = Field(
        ge=1, description="Members when it opened; update thresholds are multiples of it."
    )
    first_seen: AwareDatetime = Field(description="Receipt time of the earliest member (UTC).")
    last_seen: AwareDatetime = Field(description="Receipt time of the latest member (UTC).")
    counts: IncidentCounts
    member_ids: list[ComplaintId] = Field(
        default_factory=list, description="Every member complaint, oldest first."
    )
    added_ids: list[ComplaintId] = Field(
        default_factory=list, description="Members that joined with this change."
    )
    removed_ids: list[ComplaintId] = Field(
        default_factory=list, description="For `member_removed`: complaints taken out."
    )
    merged_into: str | None = Field(None, description="For `merged`: the surviving incident.")
    resolution: str | None = Field(None, description="For `closed`: what was done, for staff.")
    closed_at: AwareDatetime | None = Field(None, description="For `closed`: when (UTC).")


class IncidentChanged(Event):
    """A mass incident was opened, grew, was closed or merged, or lost a member."""

    topic: ClassVar[Topic] = Topic.INCIDENTS
    type: Literal["cn.complaints.incident.v1"] = "cn.complaints.incident.v1"
    data: IncidentRecord
