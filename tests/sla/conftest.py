"""Fixtures of the SLA tests."""

from __future__ import annotations

import pytest

from tests._builders.sla import Rig
from tests.sla.contract import adapters, local_stack  # noqa: F401 - the contract fixtures


@pytest.fixture
def rig() -> Rig:
    """A clock keeper, a case keeper and their in-memory stores on a fake clock."""
    return Rig()
