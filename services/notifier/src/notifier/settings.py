"""Everything the notifier reads from the environment (NOTIFIER_*)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class NotifierSettings(ServiceSettings):
    """Channel endpoints and secrets, retry bounds, dispatcher and quiet-hour overrides.

    A channel is used only when configured: SMS gateway and webhook always (they have local
    defaults), e-mail when `smtp_host` is set, WeCom when `wecom_key` is set, DingTalk when
    `dingtalk_access_token` is set. Secrets are read from the environment only.
    """

    model_config = SettingsConfigDict(
        env_prefix="NOTIFIER_", env_nested_delimiter="__", extra="ignore"
    )

    http_port: int = 8004
    sms_gateway_url: str = "http://127.0.0.1:8025/sms"
    sms_gateway_secret: SecretStr = SecretStr("dev-only-sms-secret")
    webhook_url: str = "http://127.0.0.1:8025/webhook"
    webhook_secret: SecretStr = SecretStr("dev-only-webhook-secret")

    smtp_host: str | None = Field(None, description="SMTP server; unset turns e-mail off.")
    smtp_port: int = 587
    smtp_starttls: bool = Field(True, description="Upgrade the connection with STARTTLS.")
    smtp_implicit_tls: bool = Field(False, description="TLS from the first byte (port 465).")
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_sender: str = "complaints-notifier@localhost"
    smtp_ca_file: str | None = Field(None, description="CA bundle for a private SMTP server.")

    wecom_url: str = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
    wecom_key: SecretStr | None = Field(None, description="The group robot's key; unset: off.")
    dingtalk_url: str = "https://oapi.dingtalk.com/robot/send"
    dingtalk_access_token: SecretStr | None = Field(None, description="Robot token; unset: off.")
    dingtalk_secret: SecretStr | None = Field(None, description="Robot signing secret (SEC…).")

    staff_recipient: str = Field(
        "ops-duty", description="Webhook recipient when the directory names nobody."
    )
    staff_collection: bool = Field(
        True, description="Overlay the pack's staff.yaml with the MongoDB `staff` collection."
    )
    quiet_hours: str | None = Field(
        None, description="Override the pack's customer-SMS quiet window: HH:MM-HH:MM or off."
    )
    timeout_seconds: float = 5.0
    max_attempts: int = 5
    backoff_seconds: float = 0.5
    backoff_cap_seconds: float = 30.0
    retry_later_seconds: float = Field(
        30.0, gt=0, description="A channel still failing after the retries: try again after this."
    )
    give_up_after_hours: float = Field(
        6.0, gt=0, description="Then dead-letter a notification this long after its trigger."
    )
    claim_stale_seconds: float = Field(
        30.0,
        gt=0,
        description="Lease of a claim being sent, renewed every third of it while the sender "
        "lives; one not renewed for this long is taken over (the sender crashed).",
    )
    dispatch_batch: int = Field(200, description="Due notifications leased per round.")
    dispatch_max_sleep_seconds: float = Field(1.0, description="Longest dispatcher nap.")
