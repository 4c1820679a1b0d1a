"""Offline tools over the services' domains: no Kafka, no MongoDB."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from contracts import Channel, ComplaintNormalized, CustomerTier


def validate_lines(stream: BinaryIO) -> Iterator[dict[str, Any]]:
    """One verdict per input line, in order; never raises on any input."""
    from intake.domain import IntakeLimits, Rejected, process_raw
    from intake.service import SOURCE
    from intake.settings import IntakeSettings

    secret = IntakeSettings().complainant_key_secret.get_secret_value().encode()
    limits = IntakeLimits()
    for raw in stream:
        line = raw[:-1] if raw.endswith(b"\n") else raw
        now = datetime.now(UTC)
        try:
            outcome = process_raw(line, now=now, secret=secret, limits=limits)
            if isinstance(outcome, Rejected):
                yield {
                    "status": "rejected",
                    "reason": outcome.reason.value,
                    "detail": outcome.detail,
                }
                continue
            complaint = outcome.complaint
            event = ComplaintNormalized.build(
                data=complaint,
                subject=complaint.complaint_id,
                source=SOURCE,
                time=now,
                cause=complaint.complaint_id,
            )
            yield {"status": "accepted", "normalized": event.model_dump(mode="json")}
        except Exception as exc:  # the tool's promise: one line out per line in, always
            yield {"status": "rejected", "reason": "internal_error", "detail": type(exc).__name__}


def classify_lines(stream: BinaryIO, *, policy_dir: Path, pack: str) -> Iterator[dict[str, Any]]:
    """One decision per JSON input line {"id", "channel", "text", "customer_tier"}."""
    from classifier.domain import Classifier, ClassifierInput

    classifier = Classifier.load(policy_dir=policy_dir, pack=pack)
    now = datetime.now(UTC)
    for raw in stream:
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
            item = ClassifierInput(
                text=str(row["text"]),
                channel=Channel(str(row.get("channel", "web")).strip().lower()),
                customer_tier=_tier(row.get("customer_tier")),
            )
        except (ValueError, KeyError, TypeError) as exc:
            yield {"id": _id_of(raw), "error": f"bad input: {type(exc).__name__}"}
            continue
        decision = classifier.classify(item, received_at=now)
        yield {
            "id": row.get("id"),
            "kind": decision.kind.value,
            "category": decision.category,
            "severity": decision.severity.value if decision.severity else None,
            "flags": [flag.name.value for flag in decision.flags],
            "confidence": round(decision.confidence, 4),
            "explanation": [reason.model_dump(mode="json") for reason in decision.explanation],
            "model_version": decision.model_version,
            "policy_version": f"{decision.policy}@{decision.policy_version}",
        }


def _tier(value: object) -> CustomerTier:
    try:
        return CustomerTier(str(value).strip().lower())
    except ValueError:
        return CustomerTier.STANDARD


def _id_of(raw: bytes) -> object:
    try:
        row = json.loads(raw)
    except ValueError:
        return None
    return row.get("id") if isinstance(row, dict) else None
