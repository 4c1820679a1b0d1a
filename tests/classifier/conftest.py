"""Fixtures of the classifier tests: the shipped telecom pack, and a handler rig over it."""

from __future__ import annotations

import pytest

from classifier.domain import Classifier
from tests._builders.classifier import Rig, telecom_pack


@pytest.fixture(scope="session")
def telecom() -> Classifier:
    """The shipped telecom pack and model, loaded once for the whole run."""
    return telecom_pack()


@pytest.fixture
def rig(telecom: Classifier) -> Rig:
    """One classification use-case on memory adapters and a fake clock."""
    return Rig(telecom)
