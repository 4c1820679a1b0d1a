"""Who may do what on the local broker: one SCRAM principal per service, and its ACLs.

The same table is in docs/security.md and deploy/k8s/kafka-users.yaml (tests/ops/test_kafka_acls.py
keeps the three equal). Standard library only: topic names are spelled out, and the test checks them
against `contracts.Topic`.
"""

from __future__ import annotations

from dataclasses import dataclass

RAW = "complaints.raw.v1"
NORMALIZED = "complaints.normalized.v1"
CLASSIFIED = "complaints.classified.v1"
LIFECYCLE = "complaints.lifecycle.v1"
SLA = "complaints.sla.v1"
CASES = "complaints.cases.v1"
NOTIFICATION_SENT = "notifications.sent.v1"
INCIDENTS = "complaints.incidents.v1"
DLQ = "complaints.dlq.v1"

ADMIN = "complaints"
"""The CLI's and the tests' principal: a super user, like the open listener's ANONYMOUS."""
CLIENT_CERT_PRINCIPAL = "CN=complaints-client"
"""The SSL listener's principal for the local client certificate: the admin's too."""
DESCRIBED_PREFIXES = ("complaints.", "notifications.")
"""Every service may see these topics' metadata: `ensure_topics` lists them at start."""


@dataclass(frozen=True)
class Grant:
    """One service principal: the topics it writes and reads, and its consumer group."""

    principal: str
    writes: tuple[str, ...]
    reads: tuple[str, ...] = ()
    group: str | None = None
    why: str = ""


GRANTS: tuple[Grant, ...] = (
    Grant("channels", writes=(RAW,), why="channel adapters hand in what they receive"),
    Grant(
        "intake",
        writes=(NORMALIZED, RAW, DLQ),
        reads=(RAW,),
        group="intake",
        why="the only writer of normalized; raw too, for complaints its HTTP API accepts",
    ),
    Grant(
        "classifier",
        writes=(CLASSIFIED, INCIDENTS, DLQ),
        reads=(NORMALIZED, LIFECYCLE),
        group="classifier",
        why="the only writer of classified and incidents; reads staff regrades on lifecycle",
    ),
    Grant(
        "sla",
        writes=(SLA, LIFECYCLE, CASES, DLQ),
        reads=(CLASSIFIED, LIFECYCLE, NOTIFICATION_SENT, INCIDENTS),
        group="sla",
        why="the only writer of sla, lifecycle and cases: state changes, each case's latest "
        "state, and staff actions through the case API it serves; a closed incident resolves "
        "its members",
    ),
    Grant(
        "notifier",
        writes=(NOTIFICATION_SENT, DLQ),
        reads=(CLASSIFIED, SLA, LIFECYCLE, INCIDENTS),
        group="notifier",
        why="the only writer of notifications.sent",
    ),
)
PRINCIPALS = tuple(grant.principal for grant in GRANTS)


def acl_lines(grant: Grant) -> list[str]:
    """The grant as LocalPrincipals.java plan lines (`acl PRINCIPAL TYPE PATTERN NAME OP`)."""
    user = f"User:{grant.principal}"
    lines = [f"acl {user} TOPIC LITERAL {topic} WRITE" for topic in grant.writes]
    lines += [f"acl {user} TOPIC LITERAL {topic} READ" for topic in grant.reads]
    if grant.group:
        # Prefixed: replicas or tools may add a suffix to the service's group name.
        lines.append(f"acl {user} GROUP PREFIXED {grant.group} READ")
        lines += [f"acl {user} TOPIC PREFIXED {prefix} DESCRIBE" for prefix in DESCRIBED_PREFIXES]
    return lines


def super_users() -> str:
    """`super.users`: the open listener (ANONYMOUS: inter-broker, controller, ordinary tests), the
    admin SCRAM user and the admin client certificate."""
    return ";".join(f"User:{name}" for name in ("ANONYMOUS", ADMIN, CLIENT_CERT_PRINCIPAL))


def markdown_table() -> str:
    """The table as docs/security.md shows it."""
    rows = [
        "| principal | writes | reads | consumer group | why |",
        "|---|---|---|---|---|",
    ]
    rows += [
        f"| `{grant.principal}` | {', '.join(f'`{t}`' for t in grant.writes)} | "
        f"{', '.join(f'`{t}`' for t in grant.reads) or '—'} | "
        f"{f'`{grant.group}*`' if grant.group else '—'} | {grant.why} |"
        for grant in GRANTS
    ]
    return "\n".join(rows)


STRIMZI_CLUSTER = "complaints-kafka"
STRIMZI_OPERATIONS = {"WRITE": "Write", "READ": "Read", "DESCRIBE": "Describe"}


def strimzi_users() -> str:
    """The table as Strimzi KafkaUser resources (deploy/k8s/strimzi/kafka-users.yaml)."""
    out = [
        "# Generated from deploy/local/complaints_stack/kafka_acls.py by",
        "# `python3 deploy/local/stack.py acls --strimzi`; tests/ops/test_kafka_acls.py fails when",
        "# the two differ. One SCRAM user per service with its ACLs, for a Strimzi-managed Kafka",
        f"# cluster named {STRIMZI_CLUSTER}.",
        "# The cluster needs `authorization: {type: simple}` and its own operators as superUsers.",
    ]
    for grant in GRANTS:
        out += [
            "---",
            "apiVersion: kafka.strimzi.io/v1beta2",
            "kind: KafkaUser",
            "metadata:",
            f"  name: {grant.principal}",
            "  labels:",
            f"    strimzi.io/cluster: {STRIMZI_CLUSTER}",
            "spec:",
            "  authentication:",
            "    type: scram-sha-512",
            "  authorization:",
            "    type: simple",
            "    acls:",
        ]
        for line in acl_lines(grant):
            _, _, kind, pattern, name, operation = line.split()
            out += [
                f"      - resource: {{type: {kind.lower()}, name: {name}, "
                f"patternType: {'literal' if pattern == 'LITERAL' else 'prefix'}}}",
                f"        operations: [{STRIMZI_OPERATIONS[operation]}]",
            ]
    return "\n".join(out) + "\n"
