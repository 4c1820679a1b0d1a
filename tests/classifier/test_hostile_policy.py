"""Hostile policy packs for the classifier (tests/classifier/corpus/policy.jsonl).

Each entry changes one file of a copy of the shipped packs; the classifier app is then built as
the service builds it at start. A hostile file stops the start with a `PolicyError` that names
the file and the field, quickly (alias bombs are refused unexpanded); a harmless oddity loads.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from classifier.adapters.memory import InMemoryClassificationStore
from classifier.app import Ports, create_app
from classifier.domain.policy import PolicyError
from classifier.settings import ClassifierSettings
from servicekit.clock import FakeClock
from tests._builders.hostile import Entry, assert_policy_outcome, corpus, mutated_pack

POLICIES = Path(__file__).resolve().parents[2] / "policies"
CORPUS = Path(__file__).parent / "corpus" / "policy.jsonl"


@pytest.mark.timeout(20)
@pytest.mark.parametrize("entry", corpus(CORPUS))
def test_hostile_pack_fails_the_start_with_a_named_reason(entry: Entry, tmp_path: Path) -> None:
    policies = mutated_pack(POLICIES, tmp_path, entry)
    settings = ClassifierSettings(policy_dir=policies, policy_pack="telecom")
    ports = Ports(
        store=InMemoryClassificationStore(), clock=FakeClock(datetime(2026, 11, 24, tzinfo=UTC))
    )
    assert_policy_outcome(entry, lambda: create_app(settings, ports), PolicyError)
