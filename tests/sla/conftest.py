"""Fixtures of the SLA tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests._builders.sla import ApiRig, Rig, case_api
from tests.sla.contract import adapters, local_stack  # noqa: F401 - the contract fixtures


@pytest.fixture
def rig() -> Rig:
    """A clock keeper, a case keeper and their in-memory stores on a fake clock."""
    return Rig()


@pytest.fixture
async def api(rig: Rig) -> AsyncIterator[ApiRig]:
    """The case API over a classified P4 complaint."""
    async with case_api(rig) as opened:
        yield opened
