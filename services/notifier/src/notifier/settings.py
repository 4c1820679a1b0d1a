"""Everything the notifier reads from the environment (NOTIFIER_*)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class NotifierSettings(ServiceSettings):
    """Channel endpoints and secrets, retry bounds."""

    model_config = SettingsConfigDict(
        env_prefix="NOTIFIER_", env_nested_delimiter="__", extra="ignore"
    )

    http_port: int = 8004
    sms_gateway_url: str = "http://127.0.0.1:8025/sms"
    sms_gateway_secret: SecretStr = SecretStr("dev-only-sms-secret")
    webhook_url: str = "http://127.0.0.1:8025/webhook"
    webhook_secret: SecretStr = SecretStr("dev-only-webhook-secret")
    staff_recipient: str = Field("ops-duty", description="Default staff recipient id.")
    timeout_seconds: float = 5.0
    max_attempts: int = 5
    backoff_seconds: float = 0.5
    claim_stale_seconds: float = Field(
        120.0, description="A 'sending' claim older than this is retried (sender crashed)."
    )
