"""Dead-letter records: what no service could process, kept with the reason and the bytes."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from contracts.envelope import Event, Model
from contracts.topics import Topic


class DeadLetter(Model):
    """A message a service gave up on, and why.

    The dead-letter topic is an operations topic with restricted access: it keeps the original
    bytes (which may hold personal data) so that nothing is lost and a fix can replay them. An
    original larger than the service's bound (64 KiB by default) is left out so that the record
    always fits the broker; its digest, length and coordinates (`original_topic`, `partition`,
    `offset`) find it in the source topic while that topic retains it.
    """

    schema_version: Literal[1] = Field(1, description="Version of this data schema.")
    service: str = Field(description="Service that rejected the message.")
    reason: str = Field(description="Machine-readable reason code, e.g. not_json, empty_text.")
    detail: str = Field(description="Human-readable explanation (never personal data).")
    original_topic: str
    partition: int
    offset: int
    key: str | None = Field(None, description="Original Kafka key, if it was text.")
    payload_base64: str = Field(
        description="The original message bytes, base64-encoded; empty when payload_omitted."
    )
    payload_omitted: bool = Field(
        False,
        description="True when the original was larger than the service's bound and is not"
        " included: find it by original_topic, partition and offset.",
    )
    payload_sha256: str | None = Field(
        None,
        pattern="^[0-9a-f]{64}$",
        description="SHA-256 of the original bytes (hex), whether included or not.",
    )
    payload_length: int | None = Field(
        None, ge=0, description="Length of the original bytes, whether included or not."
    )
    attempts: int = Field(1, description="Processing attempts before giving up.")


class MessageDeadLettered(Event):
    """A message was rejected or could not be processed."""

    topic: ClassVar[Topic] = Topic.DLQ
    type: Literal["cn.complaints.deadletter.v1"] = "cn.complaints.deadletter.v1"
    data: DeadLetter
