"""Fixtures of the SLA tests."""

from __future__ import annotations

from tests._builders.sla_fixtures import api, rig  # noqa: F401 - the shared SLA fixtures
from tests.sla.contract import adapters, local_stack  # noqa: F401 - the contract fixtures
