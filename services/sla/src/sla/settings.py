"""Everything the SLA service reads from the environment (SLA_*)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class SlaSettings(ServiceSettings):
    """SLA settings: policy pack, scheduler lease and wake-up bounds."""

    model_config = SettingsConfigDict(env_prefix="SLA_", env_nested_delimiter="__", extra="ignore")

    http_port: int = 8003
    lease_seconds: float = Field(30.0, description="How long a claimed deadline stays ours.")
    max_sleep_seconds: float = Field(
        0.5, description="Longest real-time nap between checks (new deadlines, expired leases)."
    )
    claim_batch: int = Field(500, description="Due deadlines claimed per round.")
    slot_seconds: int = Field(
        10, ge=1, description="Width of the scheduler's time slots (see docs/adr/0004)."
    )
    census_seconds: float = Field(
        60.0, ge=0, description="Recount open / overdue deadline gauges every N s (0: off)."
    )
    replica_id: str | None = Field(None, description="Lease owner name; default host:pid.")
