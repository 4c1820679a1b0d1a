"""Micro-bench: CPU per consumed record to decode a message body, old ways against the one decoder.

Decodes the shipped contract examples (`contracts/examples/*.json`) many times over in this one
process and prints CPU microseconds per record for each way of reading a body:

- `model_validate_json`: pydantic parses the bytes itself (what `servicekit.bodies.Body` does),
  then the time-range check every consumer makes (`implausible_time`), as in the next two;
- `orjson + model_validate`: orjson parses to Python objects, pydantic validates those;
- `TypeAdapter.validate_json`: the adapter path (unions such as `LifecycleEvent`);
- the old per-service paths that read a record twice: the SLA's lifecycle consumer (the envelope,
  then the action) and the classifier's regrade consumer (`json.loads`, then the action).

msgspec is not a dependency of the workspace and is not measured. CPU time (process_time), not
wall time: figures are comparable on a shared machine. No assertion; the tests never time.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from importlib.resources import files
from typing import Any

import orjson
from pydantic import BaseModel, TypeAdapter

from contracts import (
    CaseActionTaken,
    ComplaintClassified,
    ComplaintNormalized,
    Event,
    LifecycleEvent,
    NotificationSent,
)
from servicekit.bodies import Body
from servicekit.inbound import Inbound
from servicekit.plausible import implausible_time

EXAMPLES = files("contracts") / "examples"
MODELS: tuple[type[Event], ...] = (
    ComplaintNormalized,
    ComplaintClassified,
    NotificationSent,
    CaseActionTaken,
)


def example(model: type[Event]) -> bytes:
    """The shipped example of `model`, as the bytes a consumer reads."""
    return (EXAMPLES / f"{model.event_type}.json").read_bytes()


def per_record(way: Callable[[], Any], records: int, rounds: int) -> float:
    """CPU microseconds per record of `way` (which decodes one record), best of `rounds` runs
    of `records` calls."""
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(records):
            way()
        best = min(best, time.process_time() - started)
    return best / records * 1e6


def ways(model: type[Event], value: bytes) -> dict[str, Callable[[], Any]]:
    """Each way of decoding `value` once, as a thunk."""
    adapter: TypeAdapter[Any] = TypeAdapter(model)
    body = Body.of(model)
    inbound = Inbound("t", 0, 0, None, value, 0)

    def pydantic_json() -> BaseModel:
        event = model.model_validate_json(value)
        implausible_time(event)
        return event

    def orjson_then_validate() -> BaseModel:
        event = model.model_validate(orjson.loads(value))
        implausible_time(event)
        return event

    def adapter_json() -> BaseModel:
        event: BaseModel = adapter.validate_json(value)
        implausible_time(event)
        return event

    return {
        "model_validate_json": pydantic_json,
        "orjson + model_validate": orjson_then_validate,
        "TypeAdapter.validate_json": adapter_json,
        "Body.decode (servicekit)": lambda: body.decode([inbound]),
    }


def twice(value: bytes) -> dict[str, Callable[[], Any]]:
    """The old double reads of a lifecycle action, and the one read that replaced them."""
    union: TypeAdapter[Any] = TypeAdapter(LifecycleEvent)
    body = Body.union(LifecycleEvent, "lifecycle event", plausible=False)
    inbound = Inbound("t", 0, 0, None, value, 0)

    def sla_before() -> BaseModel:
        Event.model_validate_json(value)  # the envelope, for its type
        return CaseActionTaken.model_validate_json(value)

    def regrade_before() -> BaseModel:
        json.loads(value)  # is it a regrade?
        return CaseActionTaken.model_validate_json(value)

    return {
        "lifecycle: envelope, then action (SLA before)": sla_before,
        "lifecycle: json.loads, then action (regrade before)": regrade_before,
        "lifecycle: LifecycleEvent once (TypeAdapter)": lambda: union.validate_json(value),
        "lifecycle: Body.decode once (servicekit)": lambda: body.decode([inbound]),
    }


def main() -> None:
    """Print CPU µs per record for every way and model."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5_000, help="records per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (the best counts)")
    args = parser.parse_args()
    for model in MODELS:
        value = example(model)
        print(f"{model.__name__} ({len(value)} bytes)")
        for name, way in ways(model, value).items():
            cost = per_record(way, args.records, args.rounds)
            print(f"  {name:<52} {cost:7.1f} µs")
    value = example(CaseActionTaken)
    for name, way in twice(value).items():
        cost = per_record(way, args.records, args.rounds)
        print(f"  {name:<52} {cost:7.1f} µs")


if __name__ == "__main__":
    main()
