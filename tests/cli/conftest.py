"""Fixtures of the CLI tests: an SLA service in process behind its case API (no servers)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests._builders.sla import ApiRig, Rig, case_api


@pytest.fixture
def sla_rig() -> Rig:
    """The SLA's keepers on in-memory stores and a fake clock."""
    return Rig()


@pytest.fixture
async def api(sla_rig: Rig) -> AsyncIterator[ApiRig]:
    """The case API over one classified P4 complaint."""
    async with case_api(sla_rig) as opened:
        yield opened
