"""Fixtures of the hostile-topic suite."""

from __future__ import annotations

import pytest

from tests._builders.hostile import without_retry_sleeps


@pytest.fixture
def no_retry_sleeps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Services built in the test isolate a failing message at once (no seconds of back-off)."""
    without_retry_sleeps(monkeypatch)
