"""The local broker's SCRAM users and their ACLs, applied by the Admin API on the open listener.

One JVM (kafka/LocalPrincipals.java, run by Java's single-file source launcher) creates every user
and replaces their ACLs, once per cluster and plan: the plan goes on its stdin, never on a command
line, and a failure's output is shown with the passwords masked.
"""

from __future__ import annotations

import subprocess
import sys

from complaints_stack.base import HERE, HOST, PORTS, STATE, digest, log
from complaints_stack.credentials import Secured
from complaints_stack.kafka import kafka_java
from complaints_stack.kafka_acls import GRANTS, acl_lines


def plan(security: Secured) -> str:
    """Users (the admin and each service principal) and the ACL table, as plan lines."""
    users = {security.kafka_username: security.kafka_password, **security.kafka_principals}
    lines = [f"user {name} {password}" for name, password in users.items()]
    for grant in GRANTS:
        lines += acl_lines(grant)
    return "\n".join(lines) + "\n"


def _cluster_id() -> str:
    for line in (STATE / "kafka" / "data" / "meta.properties").read_text().splitlines():
        if line.startswith("cluster.id="):
            return line.partition("=")[2]
    return ""


def ensure_principals(security: Secured) -> None:
    """Create the SCRAM users and apply the ACL table, unless this cluster already has this plan."""
    text = plan(security)
    marker = STATE / "kafka" / "principals.sha256"
    fingerprint = digest(f"{_cluster_id()}\0{text}".encode())
    if marker.exists() and marker.read_text() == fingerprint:
        return
    log(f"creating the Kafka SCRAM users and ACLs ({len(GRANTS)} service principals)…")
    source = HERE / "kafka" / "LocalPrincipals.java"
    cmd = kafka_java(str(source), f"{HOST}:{PORTS.kafka}", heap="256m")
    result = subprocess.run(cmd, input=text, capture_output=True, text=True, check=False)
    if result.returncode != 0:  # its messages may quote a password: never shown
        output = result.stdout + result.stderr
        for password in (security.kafka_password, *security.kafka_principals.values()):
            output = output.replace(password, "***")
        sys.stderr.write(output[-4000:])
        raise SystemExit(f"[stack] could not create the Kafka users and ACLs ({result.returncode})")
    log(f"Kafka principals: {result.stdout.strip()}")
    marker.write_text(fingerprint)
