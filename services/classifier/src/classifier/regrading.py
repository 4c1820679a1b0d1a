"""Use-case: take staff regrades from the lifecycle topic into the classifier's store."""

from __future__ import annotations

import json
from collections.abc import Sequence

from classifier.domain.regrade import Correction, correction_of
from classifier.ports import CorrectionStore
from contracts import CaseActionTaken, LifecycleAction
from servicekit.delivery import Inbound, Rejection, decode

_ACTION_TYPE = CaseActionTaken.event_type


def _is_regrade(message: Inbound) -> bool:
    """Whether the record is a `regraded` action; everything else on the topic is not ours.

    Records that are not even JSON are the SLA service's to dead-letter (it consumes every
    action); this consumer only vouches for regrades.
    """
    try:
        body = json.loads(message.value)
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

    async def take(self, messages: Sequence[Inbound]) -> list[Rejection]:
        """Apply the batch's regrades; incomplete ones and unknown complaints are rejected."""
        regrades = [m for m in messages if _is_regrade(m)]
        events, rejections = decode(regrades, CaseActionTaken)
        by_message = dict(zip([id(e) for e in events], _decoded(regrades, rejections), strict=True))
        corrections: list[Correction] = [correction_of(e.data) for e in events]
        unknown = set(await self.store.apply(corrections))
        rejections += [
            Rejection(by_message[id(e)], "unknown_complaint", "no stored decision to regrade")
            for e in events
            if e.data.complaint_id in unknown
        ]
        return rejections


def _decoded(messages: Sequence[Inbound], rejections: Sequence[Rejection]) -> list[Inbound]:
    """The messages that decoded (those without a rejection), in order."""
    refused = {id(r.message) for r in rejections}
    return [m for m in messages if id(m) not in refused]
