"""Hostile policy packs for the SLA service (tests/sla/corpus/policy.jsonl).

Each entry changes one file of a copy of the shipped packs (the telecom sla.yaml or the calendar
override); the SLA app is then built as the service builds it at start. A hostile file stops the
start with a `PolicyError` that names the file and the field; a harmless oddity loads.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from servicekit.clock import FakeClock
from sla.adapters.memory import InMemoryCaseStore, InMemoryDueIndex
from sla.app import Ports, create_app
from sla.domain.errors import PolicyError
from sla.settings import SlaSettings
from tests._builders.hostile import Entry, assert_policy_outcome, corpus, mutated_pack
from tests._builders.sla import POLICIES, RECEIVED

CORPUS = Path(__file__).parent / "corpus" / "policy.jsonl"


@pytest.mark.timeout(20)
@pytest.mark.parametrize("entry", corpus(CORPUS))
def test_hostile_pack_fails_the_start_with_a_named_reason(entry: Entry, tmp_path: Path) -> None:
    policies = mutated_pack(POLICIES, tmp_path, entry)
    settings = SlaSettings(policy_dir=policies, policy_pack="telecom")
    ports = Ports(InMemoryCaseStore(), InMemoryDueIndex(), FakeClock(RECEIVED))
    assert_policy_outcome(entry, lambda: create_app(settings, ports), PolicyError)
