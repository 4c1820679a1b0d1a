"""The CloudEvents 1.0 envelope every event on a broad topic travels in (structured JSON mode)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.topics import Topic

EVENT_NAMESPACE = uuid.UUID("6f1c0b7e-2d4a-5b8e-9c3f-1a2b3c4d5e6f")
"""Namespace for deterministic event ids: the same cause always yields the same id."""

SCHEMA_BASE = "urn:complaints:schema:"


class Model(BaseModel):
    """Base of every contract model: frozen, tolerant of fields added by newer producers."""

    model_config = ConfigDict(frozen=True, extra="ignore", use_enum_values=False)


class Event(Model):
    """CloudEvents 1.0 attributes; subclasses fix `type` and declare `data`."""

    topic: ClassVar[Topic]
    event_type: ClassVar[str]
    """The subclass's fixed `type`, taken from its field so the string is written once."""

    specversion: Literal["1.0"] = Field("1.0", description="CloudEvents specification version.")
    id: str = Field(
        description="Unique per event and deterministic per cause, so consumers can dedupe "
        "redelivered or re-published events on it."
    )
    source: str = Field(
        description="URI-reference of the producing service, e.g. /complaints/intake."
    )
    type: str = Field(description="Event type, reverse-DNS style, ending in the schema version.")
    time: AwareDatetime = Field(description="When the producer created the event (UTC).")
    subject: str | None = Field(
        None, description="The complaint id the event is about; also the Kafka message key."
    )
    datacontenttype: Literal["application/json"] = Field(
        "application/json", description="Media type of `data`."
    )
    dataschema: str = Field(description="URN of the JSON Schema that `data` follows.")

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """Take `event_type` from the subclass's fixed `type` default."""
        super().__pydantic_init_subclass__(**kwargs)
        fixed = cls.model_fields["type"].default
        if isinstance(fixed, str):
            cls.event_type = fixed

    @classmethod
    def build(
        cls,
        *,
        data: Model,
        subject: str | None,
        source: str,
        time: datetime,
        cause: str,
    ) -> Self:
        """Wrap `data` in an envelope whose id is derived from the type, subject and cause."""
        event_id = uuid.uuid5(EVENT_NAMESPACE, f"{cls.event_type}|{subject}|{cause}")
        return cls(
            id=str(event_id),
            source=source,
            type=cls.event_type,
            time=time,
            subject=subject,
            dataschema=f"{SCHEMA_BASE}{cls.event_type}",
            data=data,
        )

    def key(self) -> bytes | None:
        """The Kafka message key: the complaint id, so one complaint stays in order."""
        return self.subject.encode() if self.subject else None
