"""Use-case: take staff regrades from the lifecycle topic into the classifier's store."""

from __future__ import annotations

import json
from collections.abc import Sequence

from classifier.domain.regrade import Correction, correction_of
from classifier.ports import CorrectionStore
from contracts import CaseActionTaken, LifecycleAction
from servicekit.bodies import Received
from servicekit.delivery import Rejection

_ACTION_TYPE = CaseActionTaken.event_type


def is_regrade(value: bytes) -> bool:
    """Whether the record is a `regraded` action; everything else on the topic is not ours.

    Records that are not even JSON are the SLA service's to dead-letter (it consumes every
    action); this consumer only vouches for regrades.
    """
    try:
        body = json.loads(value)
    except ValueError:
        return False
    if not isinstance(body, dict) or body.get("type") != _ACTION_TYPE:
        return False
    data = body.get("data")
    return isinstance(data, dict) and data.get("action") == LifecycleAction.REGRADED.value


class Regrading:
    """Records each `regraded` action once and puts the corrected decision on the stored one."""

    def __init__(self, *, store: CorrectionStore) -> None:
        self.store = store

    async def take(self, regrades: Sequence[Received[CaseActionTaken]]) -> list[Rejection]:
        """Apply the batch's regrades; those of unknown complaints are rejected."""
        corrections: list[Correction] = [correction_of(r.body.data) for r in regrades]
        unknown = set(await self.store.apply(corrections))
        return [
            Rejection(r, "unknown_complaint", "no stored decision to regrade")
            for r in regrades
            if r.body.data.complaint_id in unknown
        ]
