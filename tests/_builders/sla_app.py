"""The SLA service's whole app on in-memory ports, with one lead's key for its case API."""

from __future__ import annotations

import json

from sla.app import Ports
from sla.settings import SlaSettings
from tests._builders.sla import POLICIES, Rig

KEY = "lead-key-0123456789abcdef"
KEYS = json.dumps({KEY: {"staff_id": "lead-01", "role": "lead"}})


def settings(api_keys: str) -> SlaSettings:
    """The service's settings with these staff keys and the repository's packs."""
    return SlaSettings.model_validate({"api_keys": api_keys, "policy_dir": POLICIES})


def memory_ports(rig: Rig | None = None) -> Ports:
    """The app's ports over a rig's in-memory stores and fake clock (a fresh rig by default)."""
    rig = rig or Rig()
    return Ports(rig.cases, rig.index, rig.clock)
