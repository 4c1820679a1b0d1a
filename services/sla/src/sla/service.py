"""The SLA's use-cases, named by what they do; each lives in its package (ADR 0006).

`clocks` keeps the clock sheets and fires them; `casework` runs the cases' lifecycle and answers
staff. Casework depends on clocks, never the reverse (an import-linter contract).
"""

from __future__ import annotations

from sla.casework.actions import ApplyCaseAction
from sla.casework.desk import CaseDesk
from sla.casework.incidents import ResolveIncidentMembers
from sla.casework.receipts import RecordReceipt
from sla.casework.start import StartClocks
from sla.casework.work import CaseWork
from sla.clocks.scheduler import Scheduler as FireThresholds

__all__ = [
    "ApplyCaseAction",
    "CaseDesk",
    "CaseWork",
    "FireThresholds",
    "RecordReceipt",
    "ResolveIncidentMembers",
    "StartClocks",
]
