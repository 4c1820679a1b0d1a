"""What the demo staff did: actions applied, refused or unconfirmed, scripts played and finished."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from complaints_cli.case_client import Answer
from complaints_cli.staff_script import Json


@dataclass
class StaffReport:
    """What the staff did."""

    applied: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    scripts: Counter[str] = field(default_factory=Counter)
    unconfirmed: int = 0
    finished: int = 0

    def tally(self, body: Json, answer: Answer) -> bool:
        """Count one action's answer; false when the case's script cannot go on."""
        if answer.status == 200 and answer.body.get("status") == "applied":
            self.applied[str(body["action"])] += 1
            return True
        if answer.body.get("reason") == "already_acknowledged":
            return True  # the delivered acknowledgement SMS was first
        if answer.status == 202:
            self.unconfirmed += 1
        else:
            self.refused[str(answer.body.get("reason"))] += 1
        return False
