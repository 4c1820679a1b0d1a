"""`python -m classifier.offline`: classify JSON lines from stdin with a pack, no servers.

What `complaints classify` runs: each input line {"id", "channel", "text", "customer_tier"} gets
one JSON decision on stdout (kind, category, severity, flags, confidence, explanation).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from classifier.domain import Classifier, ClassifierInput
from contracts import Channel, CustomerTier


def classify_lines(stream: BinaryIO, *, policy_dir: Path, pack: str) -> Iterator[dict[str, Any]]:
    """One decision per JSON input line {"id", "channel", "text", "customer_tier"}."""
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


def main(argv: Sequence[str] | None = None) -> int:
    """Decisions for stdin on stdout."""
    parser = argparse.ArgumentParser(description="Classify JSON lines from stdin.")
    parser.add_argument("--policy-dir", type=Path, default=Path("policies"))
    parser.add_argument("--pack", default="telecom")
    args = parser.parse_args(argv)
    for out in classify_lines(sys.stdin.buffer, policy_dir=args.policy_dir, pack=args.pack):
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
