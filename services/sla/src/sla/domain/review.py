"""When a complainant's verdict record calls for human review (DOMAIN.md §4, source 003)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from contracts import Verdict

BASELESS_LIMIT = 3
BASELESS_WINDOW = timedelta(days=365)


def complainant_review_needed(
    *,
    verdicts: Sequence[tuple[datetime, Verdict]],
    now: datetime,
    baseless_limit: int = BASELESS_LIMIT,
    window: timedelta = BASELESS_WINDOW,
) -> str | None:
    """A reason to flag the complainant for human review, or None; never a blacklist.

    Only verdicts given by `now` count; upheld and partly upheld verdicts never count against the
    complainant (withdrawn or not-accepted complaints carry no verdict at all).
    """
    past = [(at, verdict) for at, verdict in verdicts if at <= now]
    malicious = sorted(at for at, verdict in past if verdict is Verdict.MALICIOUS)
    if malicious:
        return f"malicious_verdict: fabricated facts or evidence found on {malicious[-1].date()}"
    recent = [at for at, verdict in past if verdict is Verdict.BASELESS and at > now - window]
    if len(recent) >= baseless_limit:
        return (
            f"repeated_baseless: {len(recent)} baseless verdicts within "
            f"{window.days} days (limit {baseless_limit})"
        )
    return None
