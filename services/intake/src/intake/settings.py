"""Everything the intake service reads from the environment (INTAKE_*, nested with __)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    """Intake settings; the complainant-key secret must come from the environment in production."""

    model_config = SettingsConfigDict(
        env_prefix="INTAKE_", env_nested_delimiter="__", extra="ignore"
    )

    http_port: int = 8001
    complainant_key_secret: SecretStr = Field(
        SecretStr("dev-only-complainant-key-secret"),
        description="HMAC key for pseudonymous complainant keys; rotate = new keys.",
    )
    api_keys: dict[str, SecretStr] = Field(
        default_factory=dict,
        description='Channel -> API key for POST /complaints, e.g. {"web": "…"}; none: disabled.',
    )
    duplicate_window_hours: float = Field(72.0, description="Near-duplicate look-back window.")
    raw_payload_retention_days: float = Field(
        180.0,
        gt=0,
        description="How long the channel's raw payload (names, numbers) is kept in"
        " `raw_payloads`; older ones are deleted by the service.",
    )
    raw_payload_prune_seconds: float = Field(
        3600.0, gt=0, description="How often expired raw payloads are pruned (real seconds)."
    )
