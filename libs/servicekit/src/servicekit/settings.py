"""Settings blocks every service shares; each service nests them in its own BaseSettings."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from servicekit.signing import SigningSettings

TLS_PROTOCOLS = frozenset({"SSL", "SASL_SSL"})


class KafkaSettings(BaseModel):
    """How to reach Kafka and how to consume from it.

    Security (docs/security.md): `security_protocol` SASL_SSL / SASL_PLAINTEXT log in with
    `sasl_mechanism` as `sasl_username`; SSL and SASL_SSL check the brokers' certificates against
    `ssl_cafile` (default: the system's CAs) and may present a client certificate. Passwords are
    `SecretStr`: they come from the environment and never show in a repr, a log or an error.
    """

    model_config = ConfigDict(hide_input_in_errors=True)  # a refused input may hold a password

    bootstrap_servers: str = "127.0.0.1:9092"
    security_protocol: Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL", "SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"] = "SCRAM-SHA-512"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = Field(
        None, description="PEM file of the CAs that sign the brokers' certificates (SSL, SASL_SSL)."
    )
    ssl_certfile: Path | None = Field(
        None, description="Client certificate (PEM) for brokers that require one (mutual TLS)."
    )
    ssl_keyfile: Path | None = Field(
        None, description="Private key (PEM) of ssl_certfile, unless that file holds it."
    )
    ssl_key_password: SecretStr | None = Field(None, description="Password of ssl_keyfile.")
    max_records: int = Field(500, description="Largest batch one handler call receives.")
    batch_timeout_ms: int = Field(
        20,
        description="FastStream's own batch poll (where `poll_wait_ms` cannot replace it): how"
        " long an empty poll waits, and then naps.",
    )
    poll_wait_ms: int = Field(
        500,
        ge=20,
        le=5000,
        description="How long an empty poll waits for the first record (ADR 0039). Records are"
        " handed on as soon as a fetch brings them, so this sets only how often an idle consumer"
        " wakes; FastStream's poll woke every 40 ms.",
    )
    fetch_max_wait_ms: int = Field(
        100,
        ge=10,
        le=500,
        description="How long the broker holds an idle fetch (a long poll: records are answered"
        " at once). Each idle consumer fetches this often; 20 ms cost every service ~5 % of a"
        " core doing nothing.",
    )
    linger_ms: int = Field(5, description="Producer batching delay.")
    max_batch_bytes: int = Field(
        512 * 1024,
        ge=16 * 1024,
        le=1_000_000,
        description="Largest record batch the producer builds per partition (ADR 0045): a"
        " handler's batch of 500 events goes out in one produce request, not one per 16 KiB"
        " (aiokafka's default); the broker takes batches up to 1 MB (message.max.bytes).",
    )
    create_topics: bool = Field(True, description="Create missing topics at start (dev/CI).")
    dead_letter_payload_bytes: int = Field(
        64 * 1024,
        ge=0,
        le=512 * 1024,
        description="Largest original kept whole in a dead-letter record; a larger one is"
        " recorded by digest, length and coordinates (the record must fit max_request_size).",
    )

    @model_validator(mode="after")
    def _consistent_security(self) -> KafkaSettings:
        """Refuse settings that would fail at the first connection or silently skip TLS."""
        if self.security_protocol.startswith("SASL") and not (
            self.sasl_username and self.sasl_password
        ):
            raise ValueError(f"{self.security_protocol} needs sasl_username and sasl_password")
        uses_tls = self.security_protocol in TLS_PROTOCOLS
        tls_files = {
            "ssl_cafile": self.ssl_cafile,
            "ssl_certfile": self.ssl_certfile,
            "ssl_keyfile": self.ssl_keyfile,
        }
        if not uses_tls and (set_ := [name for name, value in tls_files.items() if value]):
            raise ValueError(
                f"{', '.join(set_)} given but security_protocol {self.security_protocol} "
                "does not use TLS (SSL or SASL_SSL)"
            )
        if (self.ssl_keyfile or self.ssl_key_password) and not self.ssl_certfile:
            raise ValueError("ssl_keyfile / ssl_key_password need ssl_certfile")
        return self


class MongoSettings(BaseModel):
    """How to reach MongoDB (or FerretDB).

    Credentials either in `url` (`mongodb://user:password@host/?authSource=admin`, percent-encoded)
    or, easier to take from a secret store, in `username` / `password` (which win over the URL's).
    TLS options may go in the URL (`tls=true&tlsCAFile=…`) or in `tls_cafile`.
    """

    model_config = ConfigDict(hide_input_in_errors=True)

    url: SecretStr = SecretStr("mongodb://127.0.0.1:27017")
    database: str = "complaints"
    timeout_ms: int = 5000
    username: str | None = None
    password: SecretStr | None = None
    auth_source: str | None = Field(None, description="Database of the user (MongoDB: admin).")
    auth_mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-1"] | None = None
    tls_cafile: Path | None = Field(
        None, description="PEM file of the CAs that sign the server's certificate (turns TLS on)."
    )

    @model_validator(mode="after")
    def _credentials_in_pairs(self) -> MongoSettings:
        if (self.username is None) != (self.password is None):
            raise ValueError("mongo username and password go together")
        return self


class HttpGuardSettings(BaseModel):
    """Limits of a service's HTTP API (<SERVICE>_HTTP_GUARD__<FIELD>)."""

    max_concurrent: int = Field(8, ge=1, description="Requests served at once; more get 503.")
    request_timeout_seconds: float = Field(
        1.2, gt=0, description="Budget of one request (body, handler, database); then 503."
    )
    max_body_bytes: int = Field(
        1024 * 1024, ge=0, description="Outer limit of a request body (413); APIs may be tighter."
    )
    auth_failures: int = Field(
        10, ge=1, description="Wrong or missing keys per client and window before 429."
    )
    auth_window_seconds: float = Field(60.0, gt=0, description="Window of `auth_failures`.")
    retry_after_seconds: int = Field(1, ge=1, description="Retry-After of a shed request (503).")
    shutdown_grace_seconds: float = Field(
        2.0, ge=0, description="How long SIGTERM waits for requests in flight before cutting them."
    )


class ServiceSettings(BaseSettings):
    """Fields every service reads; subclasses set `env_prefix` (INTAKE_, SLA_, …)."""

    # A refused value (an API key map, a URL with its password) is never echoed in the error.
    model_config = SettingsConfigDict(
        env_nested_delimiter="__", extra="ignore", hide_input_in_errors=True
    )

    kafka: KafkaSettings = KafkaSettings()
    mongo: MongoSettings = MongoSettings()
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    http_guard: HttpGuardSettings = HttpGuardSettings()
    signing: SigningSettings = Field(
        default_factory=SigningSettings,
        description="HMAC keys: this service's own, and its producers' (servicekit.signing).",
    )
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
    time_anchor_file: str | None = Field(
        None,
        description="Demo only: a file the demo writes the anchor into once every service is up; "
        "business time stands at time_origin until then (used instead of time_anchor).",
    )
    time_plan: str | None = Field(
        None,
        description='Demo only: pace changes as JSON [["<ISO business instant>", <scale>], …] '
        "(the demo hurries through nights and weekends; docs/adr/0013).",
    )


class ToolKafkaSettings(BaseSettings, KafkaSettings):
    """Kafka security of the `complaints` command and scripts: COMPLAINTS_KAFKA_<FIELD>.

    E.g. COMPLAINTS_KAFKA_SECURITY_PROTOCOL=SASL_SSL, COMPLAINTS_KAFKA_SASL_USERNAME,
    COMPLAINTS_KAFKA_SASL_PASSWORD, COMPLAINTS_KAFKA_SSL_CAFILE; the bootstrap servers come from
    the tool's own option (--kafka, $COMPLAINTS_KAFKA).
    """

    model_config = SettingsConfigDict(
        env_prefix="COMPLAINTS_KAFKA_", extra="ignore", hide_input_in_errors=True
    )
