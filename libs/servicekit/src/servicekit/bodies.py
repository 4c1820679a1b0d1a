"""Typed message bodies, decoded once: each subscriber declares the contract type of its bodies.

`subscriptions.subscribe` hands each subscriber's `Body.decoder` to FastStream as the custom
decoder of its batches and declares the handler's argument as `Batch[<contract type>]`, so the
AsyncAPI document FastStream generates names the typed payload. The decoder checks signatures
first (on topics one service owns), then parses each record once; what fails is refused with a
reason (dead-lettered by the delivery policy) and the handler gets `Received` records with bodies.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast, get_args

from faststream.kafka import KafkaMessage
from pydantic import BaseModel, GetCoreSchemaHandler, TypeAdapter, ValidationError
from pydantic_core import CoreSchema, core_schema

from contracts import Event
from servicekit.inbound import Inbound, Rejection
from servicekit.plausible import implausible_time, out_of_range

T = TypeVar("T")
E = TypeVar("E", bound=Event)

Verify = Callable[[Inbound], Rejection | None]
"""Why a record is not its topic's owner's (a signature check), or None."""


@dataclass(frozen=True)
class Received(Inbound, Generic[T]):
    """A consumed record with its body decoded (a rejection may name it as its message)."""

    body: T = field(kw_only=True)


def received(message: Inbound, body: T) -> Received[T]:
    """`message` with its decoded `body`.

    Filled in directly rather than through the frozen dataclass's `__init__` (one
    `object.__setattr__` per field): a fifth of the cost, paid for every consumed record.
    """
    item: Received[T] = object.__new__(Received)
    fields = item.__dict__
    fields.update(message.__dict__)
    fields["body"] = body
    return item


Handler = Callable[[Sequence[Received[T]]], Awaitable[Sequence[Rejection]]]
"""A use case over a batch of decoded records; returns those it refuses."""


class Batch(Generic[T]):
    """One consumed batch: every record, the decoded ones, and those refused while decoding."""

    __slots__ = ("items", "records", "refused")

    def __init__(
        self, records: Sequence[Inbound], items: list[Received[T]], refused: list[Rejection]
    ) -> None:
        self.records = records
        self.items = items
        self.refused = refused

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        """Documented as a list of the declared bodies; a decoded batch passes as it is."""
        body = next(iter(get_args(source)), Any)
        return core_schema.json_or_python_schema(
            json_schema=core_schema.list_schema(handler.generate_schema(body)),
            python_schema=core_schema.is_instance_schema(cls),
        )


def _same(value: bytes) -> bytes:
    return value


@dataclass(frozen=True)
class Body(Generic[T]):
    """A subscriber's contract type and how one record's bytes become it."""

    schema: Any
    """What the records carry, as FastStream documents it (a model, or a union of models)."""
    name: str
    """How a refusal names what the record is not (`not a <name>: …`)."""
    parse: Callable[[bytes], T]
    plausible: bool = True
    """Refuse a body with a time outside the pipeline's range (`implausible_time`)."""
    select: Callable[[bytes], bool] | None = None
    """The records this subscriber takes; the others on the topic are another consumer's to
    judge, and pass untouched (None: all)."""

    @classmethod
    def of(
        cls,
        model: type[E],
        *,
        plausible: bool = True,
        select: Callable[[bytes], bool] | None = None,
    ) -> Body[E]:
        """Bodies of one event type, parsed by pydantic straight from the bytes."""
        return Body(model, model.event_type, model.model_validate_json, plausible, select)

    @classmethod
    def union(cls, schema: Any, name: str, *, plausible: bool = True) -> Body[Any]:
        """Bodies of several event types told apart by their `type` (a discriminated union)."""
        adapter: TypeAdapter[Any] = TypeAdapter(schema)
        return Body(schema, name, adapter.validate_json, plausible)

    @classmethod
    def raw(cls, schema: type[BaseModel]) -> Body[bytes]:
        """Bodies the use case reads itself (intake's channel formats): the bytes as they came."""
        return Body(schema, schema.__name__, _same, plausible=False)

    def decode(self, messages: Sequence[Inbound]) -> tuple[list[Received[T]], list[Rejection]]:
        """Each record parsed once; what does not parse is `invalid_event`, and a body dated
        outside the pipeline's range `implausible_time` (where the body says so)."""
        items: list[Received[T]] = []
        refused: list[Rejection] = []
        for message in messages:
            try:
                if self.select is not None and not self.select(message.value):
                    continue
                body = self.parse(message.value)
                path = (
                    implausible_time(body)
                    if self.plausible and isinstance(body, BaseModel)
                    else None
                )
            except ValidationError as exc:
                refused.append(Rejection(message, "invalid_event", self._invalid(exc)))
                continue
            except Exception as exc:
                # Raised out of FastStream's decoder, it would rewind the batch (NACK_ON_ERROR)
                # and redeliver it for ever: the good records behind it would never be handled.
                detail = f"not a {self.name}: {type(exc).__name__} while decoding"
                refused.append(Rejection(message, "invalid_event", detail))
                continue
            if path is not None:
                refused.append(Rejection(message, "implausible_time", out_of_range(path)))
                continue
            items.append(received(message, body))
        return items, refused

    def _invalid(self, exc: ValidationError) -> str:
        first = exc.errors(include_url=False, include_input=False)[0]
        if first["type"] == "union_tag_invalid":  # never echo a hostile type whole
            return f"unknown type {str(first.get('ctx', {}).get('tag', ''))[:60]!r}"
        return f"not a {self.name}: {exc.error_count()} validation errors"

    def decoder(
        self, verify: Verify | None = None
    ) -> Callable[[KafkaMessage], Awaitable[Batch[T]]]:
        """FastStream's custom decoder of a consumed batch: signatures, then bodies."""

        async def decode(message: KafkaMessage) -> Batch[T]:
            batch = cast(Sequence[Any], message.raw_message)  # a batch subscriber's records
            records = [Inbound.from_record(r) for r in batch]
            refused: list[Rejection] = []
            signed = records
            if verify is not None:
                signed = []
                for record in records:
                    if (why := _verified(verify, record)) is None:
                        signed.append(record)
                    else:
                        refused.append(why)
            items, invalid = self.decode(signed)
            return Batch(records, items, [*refused, *invalid])

        return decode


def _verified(verify: Verify, record: Inbound) -> Rejection | None:
    """The signature check; one that breaks on the record refuses it (never the batch)."""
    try:
        return verify(record)
    except Exception as exc:
        return Rejection(record, "unsigned", f"signature check failed: {type(exc).__name__}")


async def deliver(
    body: Body[T], handler: Handler[T], messages: Sequence[Inbound]
) -> list[Rejection]:
    """One batch as a subscription takes it, without retries or dead letters: decoded, the typed
    records handed on, every rejection returned (handler tests, offline tools)."""
    items, refused = body.decode(messages)
    return [*refused, *(await handler(items) if items else [])]
