"""The `incidents:` section of a pack's notifier.yaml."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from contracts import Audience

DEFAULT_TEMPLATES = {
    "opened": "staff_incident_opened",
    "update": "staff_incident_update",
    "closed": "staff_incident_closed",
    "notice": "acknowledgement_incident",
    "update_notice": "customer_incident_notice",
    "restored": "customer_incident_restored",
}
"""Template per message; the notice starts with `acknowledg` so it acknowledges the case."""


@dataclass(frozen=True)
class IncidentPolicy:
    """The pack's `incidents:` section: who is told, at which sizes, with which templates."""

    audience: Audience = Audience.OPERATIONS
    departments: Mapping[str, str] = field(default_factory=dict)
    """Top category → department whose desk (staff.yaml) gets the alerts; else the default."""
    update_at: tuple[int, ...] = (2, 5)
    """Multiples of the opening size at which operations gets an update."""
    restoration_hours: float = 4.0
    faults: Mapping[str, str] = field(default_factory=dict)
    """Category path (or top category) → how the fault is named to customers."""
    templates: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_TEMPLATES))

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> IncidentPolicy:
        """Read the section; unknown keys in `templates` are refused by the caller's check."""
        update_at = tuple(sorted({int(m) for m in raw.get("update_at", (2, 5))}))
        if any(m < 2 for m in update_at):
            raise ValueError("incidents.update_at: multiples must be 2 or more")
        hours = float(raw.get("restoration_hours", 4))
        if not 0 < hours <= 24 * 30:
            raise ValueError("incidents.restoration_hours: expected 0 < hours <= 720")
        return cls(
            audience=Audience(raw.get("notify", Audience.OPERATIONS.value)),
            departments={str(k): str(v) for k, v in (raw.get("departments") or {}).items()},
            update_at=update_at,
            restoration_hours=hours,
            faults={str(k): str(v) for k, v in (raw.get("faults") or {}).items()},
            templates=DEFAULT_TEMPLATES
            | {str(k): str(v) for k, v in (raw.get("templates") or {}).items()},
        )

    def fault(self, category: str) -> str:
        """The fault's name for customers: its path's, its top category's, or a generic one."""
        top = category.split("/", maxsplit=1)[0]
        return self.faults.get(category) or self.faults.get(top) or "网络故障"
