"""Hostile policy packs for the notifier (tests/notifier/corpus/policy.jsonl).

Each entry changes one file of a copy of the shipped packs (the telecom notifier.yaml or
staff.yaml); the notifier app is then built as the service builds it at start. A hostile file,
including template source that tries more than printing values, stops the start with a
`PolicyError` naming the file, the template or field, and the problem; a harmless oddity loads,
and those with a `render` render exactly as the entry says.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from notifier.adapters.memory import InMemoryContactBook, InMemoryNotificationLog
from notifier.app import Ports, create_app, load_policy
from notifier.domain import PolicyError
from notifier.settings import NotifierSettings
from servicekit.clock import FakeClock
from tests._builders.hostile import Entry, assert_policy_outcome, corpus, mutated_pack
from tests.notifier.rig import NOW, POLICIES, FakeChannel

CORPUS = Path(__file__).parent / "corpus" / "policy.jsonl"


@pytest.mark.timeout(20)
@pytest.mark.parametrize("entry", corpus(CORPUS))
def test_hostile_pack_fails_the_start_with_a_named_reason(
    entry: Entry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NOTIFIER_QUIET_HOURS", "NOTIFIER_POLICY_PACK", "NOTIFIER_POLICY_DIR"):
        monkeypatch.delenv(name, raising=False)
    policies = mutated_pack(POLICIES, tmp_path, entry)
    settings = NotifierSettings(policy_dir=policies, policy_pack="telecom")
    settings.kafka.create_topics = False
    ports = Ports(
        log=InMemoryNotificationLog(),
        contacts=InMemoryContactBook({}),
        clock=FakeClock(NOW),
        channels={"sms": FakeChannel("sms"), "webhook": FakeChannel("webhook")},
    )
    assert_policy_outcome(entry, lambda: create_app(settings, ports), PolicyError)
    if "render" in entry:
        spec = entry["render"]
        templates = load_policy(settings).templates
        assert templates.render(spec["template"], spec["values"]).body == spec["body"]
