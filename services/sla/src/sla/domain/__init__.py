"""Pure domain of the SLA service: business calendar, clocks and deadlines, case lifecycle."""

from sla.domain.calendar import BusinessCalendar
from sla.domain.case import (
    Case,
    Handover,
    HistoryEntry,
    PauseCredit,
    Refusal,
    Transition,
    open_case,
)
from sla.domain.clock_starts import (
    deadlines_on_resolution,
    deadlines_starting,
    severity_upgrade_due,
    start_clocks,
)
from sla.domain.deadlines import (
    Deadline,
    build_deadline,
    deadlines_at_receipt,
    target_at,
    threshold_times,
)
from sla.domain.errors import PolicyError
from sla.domain.lifecycle import apply_action
from sla.domain.pausing import pause_cap_ends_at
from sla.domain.policy import BREACH, ClockSpec, Duration, SlaPolicy, Start, Unit
from sla.domain.policy_rules import EscalationRule, Overlay, Upgrade, parse_duration
from sla.domain.replanning import extend_deadline, next_occurrence, shift_for_pause
from sla.domain.review import complainant_review_needed
from sla.domain.transitions import LEGAL, TERMINAL

__all__ = [
    "BREACH",
    "LEGAL",
    "TERMINAL",
    "BusinessCalendar",
    "Case",
    "ClockSpec",
    "Deadline",
    "Duration",
    "EscalationRule",
    "Handover",
    "HistoryEntry",
    "Overlay",
    "PauseCredit",
    "PolicyError",
    "Refusal",
    "SlaPolicy",
    "Start",
    "Transition",
    "Unit",
    "Upgrade",
    "apply_action",
    "build_deadline",
    "complainant_review_needed",
    "deadlines_at_receipt",
    "deadlines_on_resolution",
    "deadlines_starting",
    "extend_deadline",
    "next_occurrence",
    "open_case",
    "parse_duration",
    "pause_cap_ends_at",
    "severity_upgrade_due",
    "shift_for_pause",
    "start_clocks",
    "target_at",
    "threshold_times",
]
