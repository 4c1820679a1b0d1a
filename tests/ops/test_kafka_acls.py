"""One ACL table for the broker: the local stack's plan, docs/security.md and the Strimzi manifest.

The table lives in deploy/local/complaints_stack/kafka_acls.py (standard library, so topic names are
spelled out there); these tests hold it to the contracts and keep its two copies equal. That the
broker enforces it is shown on the real stack by tests/e2e/test_secured_stack.py.
"""

from __future__ import annotations

import importlib
from typing import Any

import yaml

from contracts import Topic
from tests.ops.local_stack import REPO, load_stack

load_stack()  # puts deploy/local on sys.path
acls: Any = importlib.import_module("complaints_stack.kafka_acls")
TOPICS = {topic.value for topic in Topic}


def test_every_granted_topic_is_a_contract_topic() -> None:
    for grant in acls.GRANTS:
        assert set(grant.writes) | set(grant.reads) <= TOPICS, grant.principal


def test_each_topic_but_the_dlq_and_raw_has_exactly_one_writer() -> None:
    """Forged events are refused by the broker: one owner per event topic."""
    writers: dict[str, list[str]] = {topic: [] for topic in TOPICS}
    for grant in acls.GRANTS:
        for topic in grant.writes:
            writers[topic].append(grant.principal)
    assert writers.pop(Topic.DLQ.value) == ["intake", "classifier", "sla", "notifier"]
    assert sorted(writers.pop(Topic.RAW.value)) == ["channels", "intake"]
    assert writers == {
        Topic.NORMALIZED.value: ["intake"],
        Topic.CLASSIFIED.value: ["classifier"],
        Topic.INCIDENTS.value: ["classifier"],
        Topic.LIFECYCLE.value: ["sla"],
        Topic.SLA.value: ["sla"],
        Topic.CASES.value: ["sla"],
        Topic.NOTIFICATION_SENT.value: ["notifier"],
    }


def test_the_open_listener_and_the_admin_are_the_only_super_users() -> None:
    assert acls.super_users() == "User:ANONYMOUS;User:complaints;User:CN=complaints-client"
    assert "complaints" not in acls.PRINCIPALS


def test_docs_security_shows_the_table() -> None:
    text = (REPO / "docs" / "security.md").read_text("utf-8")
    assert acls.markdown_table() in text, (
        "docs/security.md's ACL table differs: paste `python3 deploy/local/stack.py acls`"
    )


def test_the_strimzi_manifest_is_the_table() -> None:
    path = REPO / "deploy" / "k8s" / "strimzi" / "kafka-users.yaml"
    regenerate = (
        "python3 deploy/local/stack.py acls --strimzi > deploy/k8s/strimzi/kafka-users.yaml"
    )
    assert path.read_text("utf-8") == acls.strimzi_users(), f"regenerate: {regenerate}"
    users = list(yaml.safe_load_all(path.read_text("utf-8")))
    assert [u["metadata"]["name"] for u in users] == list(acls.PRINCIPALS)
    for user, grant in zip(users, acls.GRANTS, strict=True):
        rules = {
            (r["resource"]["type"], r["resource"]["name"], op)
            for r in user["spec"]["authorization"]["acls"]
            for op in r["operations"]
        }
        assert {("topic", t, "Write") for t in grant.writes} <= rules
        assert {("topic", t, "Read") for t in grant.reads} <= rules
        assert user["spec"]["authentication"]["type"] == "scram-sha-512"
