"""Now `tests._builders.hostile`, kept for tests/sla and tests/classifier (issue 19)."""

from tests._builders.hostile import (
    Entry,
    RecordingDatabase,
    ServiceOnBroker,
    assert_dead_letters,
    assert_policy_outcome,
    check_write,
    corpus,
    mutated_pack,
    payload,
    without_retry_sleeps,
)

__all__ = [
    "Entry",
    "RecordingDatabase",
    "ServiceOnBroker",
    "assert_dead_letters",
    "assert_policy_outcome",
    "check_write",
    "corpus",
    "mutated_pack",
    "payload",
    "without_retry_sleeps",
]
