"""`python -m intake.offline`: validate raw messages, one per stdin line, with no servers.

What `complaints intake validate` runs: each line gets one JSON verdict on stdout, in order —
rejected with its reason, or accepted with the normalised (masked) event intake would publish.
It reads the pack's intake.yaml as the service does (INTAKE_POLICY_DIR / INTAKE_POLICY_PACK), so
a receipt the service would refuse as too old is refused here too.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, BinaryIO

from contracts import ComplaintNormalized
from intake.domain import IntakeLimits, Rejected, process_raw
from intake.pack import IntakePackError, load_limits
from intake.service import SOURCE
from intake.settings import IntakeSettings


def validate_lines(stream: BinaryIO, limits: IntakeLimits) -> Iterator[dict[str, Any]]:
    """One verdict per input line, in order; never raises on any input."""
    secret = IntakeSettings().complainant_key_secret.get_secret_value().encode()
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


def main() -> int:
    """Verdicts for stdin on stdout; a bad intake.yaml stops it, as it stops the service."""
    settings = IntakeSettings()
    try:
        limits = load_limits(policy_dir=settings.policy_dir, pack=settings.policy_pack)
    except IntakePackError as exc:
        sys.stderr.write(f"intake validate: {exc}\n")
        return 2
    for out in validate_lines(sys.stdin.buffer, limits):
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
