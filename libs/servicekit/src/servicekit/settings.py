"""Settings blocks every service shares; each service nests them in its own BaseSettings."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaSettings(BaseModel):
    """How to reach Kafka and how to consume from it."""

    bootstrap_servers: str = "127.0.0.1:9092"
    security_protocol: Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL", "SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"] = "SCRAM-SHA-512"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    max_records: int = Field(500, description="Largest batch one handler call receives.")
    batch_timeout_ms: int = Field(20, description="How long a poll waits to fill a batch.")
    linger_ms: int = Field(5, description="Producer batching delay.")
    create_topics: bool = Field(True, description="Create missing topics at start (dev/CI).")


class MongoSettings(BaseModel):
    """How to reach MongoDB (or FerretDB)."""

    url: SecretStr = SecretStr("mongodb://127.0.0.1:27017")
    database: str = "complaints"
    timeout_ms: int = 5000


class ServiceSettings(BaseSettings):
    """Fields every service reads; subclasses set `env_prefix` (INTAKE_, SLA_, …)."""

    model_config = SettingsConfigDict(env_nested_delimiter="__", extra="ignore")

    kafka: KafkaSettings = KafkaSettings()
    mongo: MongoSettings = MongoSettings()
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"
    lag_interval_seconds: float = Field(
        10.0, ge=0, description="How often each consumer's lag gauge is refreshed (0 = never)."
    )
    policy_dir: Path = Path("policies")
    policy_pack: str = "telecom"
    time_scale: float = Field(
        1.0, gt=0, description="Demo only: how many seconds of business time pass per real second."
    )
    time_origin: str | None = Field(
        None, description="Demo only: ISO time the scaled clock starts from (default: now)."
    )
    time_anchor: str | None = Field(
        None,
        description="Demo only: real ISO instant at which business time equals time_origin "
        "(shared by all services of a run so their scaled clocks agree).",
    )
