"""SCRAM users of the local broker, created through the Admin API on the open listener."""

from __future__ import annotations

import subprocess
import sys

from complaints_stack.base import HOST, PORTS, STATE, digest, log
from complaints_stack.credentials import Secured
from complaints_stack.kafka import SCRAM_MECHANISMS, kafka_java
from complaints_stack.tls import secrets_dir


def ensure_scram_user(security: Secured) -> None:
    """Give the SCRAM user its password in the cluster metadata, once per cluster and password.

    Done through the Admin API on the PLAINTEXT listener (kafka-configs), so it works the same
    on a fresh cluster and on one formatted before the authenticated listeners existed. The
    password goes in a 0600 file, never on a command line.
    """
    cluster = ""
    for line in (STATE / "kafka" / "data" / "meta.properties").read_text().splitlines():
        if line.startswith("cluster.id="):
            cluster = line.partition("=")[2]
    marker = STATE / "kafka" / "scram-user.sha256"
    fingerprint = digest(
        f"{cluster}\0{security.kafka_username}\0{security.kafka_password}".encode()
    )
    if marker.exists() and marker.read_text() == fingerprint:
        return
    log(f"creating the Kafka SCRAM user {security.kafka_username!r}…")
    configs = secrets_dir() / "scram-user.properties"
    for mechanism in SCRAM_MECHANISMS:  # one per request: the tool sends a file's lines as one
        configs.touch(mode=0o600)
        # A properties file: unlike --add-config, no brackets around the value.
        configs.write_text(f"{mechanism}=password={security.kafka_password}\n")
        cmd = kafka_java(
            "kafka.admin.ConfigCommand",
            "--bootstrap-server",
            f"{HOST}:{PORTS.kafka}",
            "--alter",
            "--entity-type",
            "users",
            "--entity-name",
            security.kafka_username,
            "--add-config-file",
            str(configs),
            heap="128m",
        )
        try:
            result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        finally:
            configs.unlink(missing_ok=True)
        if result.returncode != 0:  # its messages may quote the password: never shown
            sys.stderr.write(
                (result.stdout + result.stderr).replace(security.kafka_password, "***")
            )
            raise SystemExit(f"[stack] could not create the SCRAM user ({result.returncode})")
    marker.write_text(fingerprint)
