"""Run the real servers of the pipeline as local processes, without Docker.

Kafka 4.x (KRaft, combined mode) from its Maven Central jars on the machine's Java 17,
FerretDB 1.24 (SQLite backend) built from its Go module with the fixes in ferretdb/, and
Prometheus from Debian. Everything lives under ``.local/`` in the repository (git-ignored) and
listens on 127.0.0.1 only. Standard library only, so it runs before the project's virtualenv exists.

Besides the open endpoints everything uses (Kafka PLAINTEXT, FerretDB without auth), `up` also
serves authenticated ones, to show the services' security settings working (docs/security.md):
Kafka SASL_SSL and SASL_PLAINTEXT with SCRAM, Kafka SSL with client certificates, and a second
FerretDB that requires SCRAM (TCP and TLS). Their dev-only credentials, the local CA and the
certificates are generated into ``.local/secrets/`` (`secured()` reads them).

    python3 deploy/local/stack.py install   # fetch / build what is missing (idempotent)
    python3 deploy/local/stack.py up        # install, start, wait until ready, create topics
    python3 deploy/local/stack.py status
    python3 deploy/local/stack.py down
    python3 deploy/local/stack.py check-go  # gofmt, go vet, go test of the FerretDB build
    python3 deploy/local/stack.py acls      # the Kafka ACL table (--strimzi: as KafkaUsers)

This file is the entry point and the one module scripts and tests import; the parts live in
complaints_stack/, one module per server it starts:

    base.py            paths, ports, logging, running a command
    supervise.py       process supervision: spawn, pid files, wait for a port, stop
    kafka.py           Kafka: jars from Maven, broker configuration, listeners
    kafka_acls.py      Kafka: one principal per service and its ACLs (the table)
    kafka_users.py     Kafka: SCRAM users and ACLs applied (kafka/LocalPrincipals.java)
    ferretdb_build.py  the MongoDB-compatible server: FerretDB built with patches/ and _overlay/
    ferretdb.py        the MongoDB-compatible server: running it (open and authenticated)
    credentials.py     secrets: dev-only passwords and what `secured()` hands out
    tls.py             TLS: the local CA and certificates (openssl)
    prometheus.py      Prometheus: Debian's server with the project's rules
    cli.py             the commands above
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # complaints_stack, also when imported

from complaints_stack import cli
from complaints_stack.base import HERE, HOST, PORTS, REPO, STATE, Ports, log, run
from complaints_stack.cli import down, install, reset, status, up
from complaints_stack.credentials import Secured, secured, wanted_security
from complaints_stack.ferretdb import start_ferretdb, start_ferretdb_auth, wal_sizes
from complaints_stack.ferretdb_build import ferretdb_binary, install_ferretdb
from complaints_stack.kafka import install_kafka, kafka_java, start_kafka
from complaints_stack.prometheus import (
    PROMETHEUS_JOBS,
    install_prometheus,
    prometheus_binary,
    prometheus_config,
    promtool,
    start_prometheus,
    stop_prometheus,
)
from complaints_stack.supervise import alive, port_open, spawn, stop, wait_port
from complaints_stack.tls import secrets_dir

__all__ = [
    "HERE", "HOST", "PORTS", "PROMETHEUS_JOBS", "REPO", "STATE", "Ports", "Secured", "alive",
    "down", "ferretdb_binary", "install", "install_ferretdb", "install_kafka", "install_prometheus",
    "kafka_java", "log", "port_open", "prometheus_binary", "prometheus_config", "promtool", "reset",
    "run", "secrets_dir", "secured", "spawn", "start_ferretdb", "start_ferretdb_auth",
    "start_kafka", "start_prometheus", "status", "stop", "stop_prometheus", "up", "wait_port",
    "wal_sizes", "wanted_security",
]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """`stack.py COMMAND`: see the module's docstring."""
    return cli.main(argv, description=(__doc__ or "").splitlines()[0])


if __name__ == "__main__":
    sys.exit(main())
