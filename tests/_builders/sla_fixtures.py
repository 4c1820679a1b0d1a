"""The SLA fixtures the SLA and CLI tests share: import them into a conftest."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests._builders.sla import ApiRig, Rig, case_api


@pytest.fixture
def rig() -> Rig:
    """The SLA's use cases on in-memory stores and a fake clock."""
    return Rig()


@pytest.fixture
async def api(rig: Rig) -> AsyncIterator[ApiRig]:
    """The case API over one classified P4 complaint."""
    async with case_api(rig) as opened:
        yield opened
