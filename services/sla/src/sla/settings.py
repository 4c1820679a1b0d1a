"""Everything the SLA service reads from the environment (SLA_*)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    TypeAdapter,
    model_validator,
)
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings
from servicekit.staff_keys import parse_keys


class Role(StrEnum):
    """What a staff member may do on the case API (docs/case-api.md has the table)."""

    HANDLER = "handler"
    LEAD = "lead"
    MANAGER = "manager"
    AUDITOR = "auditor"  # reads the access log of personal data; sees and works no case


class StaffKey(BaseModel):
    """Who presents an API key: the staff id recorded as the actor, and the role."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    staff_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._@-]+$")
    role: Role
    department: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        description="The handler's or lead's department: which cases they see (issue 20).",
    )
    departments: tuple[Annotated[str, StringConstraints(min_length=1, max_length=64)], ...] = Field(
        (), max_length=100, description="Further departments (a lead over several)."
    )

    @property
    def all_departments(self) -> frozenset[str]:
        """Every department the staff member works for."""
        return frozenset((*self.departments, *([self.department] if self.department else [])))


STAFF_KEYS: TypeAdapter[dict[str, StaffKey]] = TypeAdapter(dict[str, StaffKey])


def parse_staff_keys(raw: str) -> dict[str, StaffKey]:
    """API key → staff member from JSON; errors name no key (they are secrets)."""
    return parse_keys(raw, STAFF_KEYS, "SLA_API_KEYS")


class SlaSettings(ServiceSettings):
    """SLA settings: policy pack, scheduler lease and wake-up bounds, case API keys."""

    model_config = SettingsConfigDict(env_prefix="SLA_", env_nested_delimiter="__", extra="ignore")

    http_port: int = 8003
    lease_seconds: float = Field(
        30.0,
        description="Longest a replica's unpublished firings stay its own, even while it beats.",
    )
    heartbeat_seconds: float = Field(
        0.2, gt=0, description="How often a scheduler replica renews its liveness (ADR 0025)."
    )
    stale_seconds: float = Field(
        0.6,
        gt=0,
        description="A replica whose last beat is older has lost its unpublished firings.",
    )
    max_sleep_seconds: float = Field(
        0.5, description="Longest real-time nap between checks (new deadlines, expired leases)."
    )
    claim_batch: int = Field(500, description="Due deadlines claimed per round.")
    claim_ahead_seconds: float = Field(
        0.0,
        ge=0,
        description="How far ahead the scheduler reads and loads what falls due, to fire it at "
        "its instant (0, the default: read once due, fire in the round; ADR 0034).",
    )
    slot_seconds: int = Field(
        10, ge=1, description="Width of the scheduler's time slots (see docs/adr/0004)."
    )
    census_seconds: float = Field(
        60.0, ge=0, description="Recount open / overdue deadline gauges every N s (0: off)."
    )
    action_concurrency: int = Field(
        8, ge=1, le=64, description="Cases whose staff actions one batch applies at once."
    )
    replica_id: str | None = Field(None, description="Lease owner name; default host:pid.")
    api_keys: SecretStr = Field(
        SecretStr(""),
        description='Case API keys as JSON: {"<key>": {"staff_id": "h-07", "role": "handler", '
        '"department": "billing"}}; roles handler | lead | manager | auditor; '
        "empty: the case API is off.",
    )

    @model_validator(mode="after")
    def _beats_fit(self) -> SlaSettings:
        if self.stale_seconds < 2 * self.heartbeat_seconds:
            raise ValueError("SLA_STALE_SECONDS must be at least twice SLA_HEARTBEAT_SECONDS")
        return self

    def staff_keys(self) -> dict[str, StaffKey]:
        """The case API's keys and who holds them (ValueError naming no key if malformed)."""
        return parse_staff_keys(self.api_keys.get_secret_value())
