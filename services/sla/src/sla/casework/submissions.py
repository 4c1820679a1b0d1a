"""Action ids the case API has taken: each request's digest, so that an id reused with another
body is refused (409) and a retry with the same body gets the same answer, and so that polling
an id never sent is 404 rather than `pending` for ever."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from contracts import LifecycleAction
from sla.domain import HistoryEntry
from sla.ports import CaseRecord, Submission

# Refusals about what the request lacks (422), not about the case's state (409).
INCOMPLETE = frozenset(
    {
        "assignment_needs_assignee",
        "pause_needs_reason",
        "callback_needs_answer",
        "closure_needs_verdict",
        "extension_incomplete",
        "extension_needs_approval",
        "regrade_incomplete",
        *("handover_incomplete", "decline_needs_reason", "complexity_incomplete"),
        "replan_incomplete",
    }
)


def request_digest(body: Mapping[str, Any], staff_id: str) -> str:
    """SHA-256 of the request as parsed (defaults filled in, keys sorted) and who sent it."""
    text = json.dumps({"by": staff_id, "request": body}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def applied_entry(record: CaseRecord, action_id: str) -> HistoryEntry | None:
    """The case's history entry of this action id, if it was applied."""
    return next((h for h in record.case.history if h.action_id == action_id), None)


def reuse(
    record: CaseRecord,
    action_id: str,
    action: LifecycleAction,
    digest: str,
    taken: Submission | None = None,
) -> str | None:
    """Why this request may not have this id (taken for another body, or applied as another
    action), or None. `taken`: the submission kept for the id, if not the record's own."""
    taken = taken or record.submissions.get(action_id)
    done = applied_entry(record, action_id)
    if (taken is not None and taken.digest != digest) or (done and done.action is not action):
        return f"action id {action_id} was used for another action (or another body)"
    return None
