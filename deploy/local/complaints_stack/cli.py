"""The stack's commands: install, up, down, status, reset, env, secured-env, check-go, acls."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
import shutil

from complaints_stack.base import HOST, PORTS, STATE, log
from complaints_stack.credentials import MONGO_AUTH_SOURCE, secured, wanted_security
from complaints_stack.ferretdb import start_ferretdb, start_ferretdb_auth
from complaints_stack.ferretdb_build import check as check_go
from complaints_stack.ferretdb_build import install_ferretdb
from complaints_stack.kafka import install_kafka, start_kafka
from complaints_stack.kafka_acls import markdown_table, strimzi_users
from complaints_stack.kafka_users import ensure_principals
from complaints_stack.prometheus import install_prometheus, start_prometheus
from complaints_stack.supervise import alive, port_open, stop, wait_port
from complaints_stack.tls import secrets_dir


def install(with_prometheus: bool = False) -> None:
    """Fetch and build every server that is missing."""
    STATE.mkdir(parents=True, exist_ok=True)
    install_kafka()
    install_ferretdb()
    if with_prometheus:
        install_prometheus()


def ensure_signing_keys() -> None:
    """Generate this stack's signing keys once (.local/secrets/signing.json, mode 0600): the
    services started against it sign and verify with them, never with a constant (ADR 0010)."""
    path = secrets_dir() / "signing.json"
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = {name: secrets.token_hex(32) for name in ("intake", "classifier", "sla", "notifier")}
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump(keys, out)
    log(f"signing keys generated: {path}")


def up(with_prometheus: bool = False) -> None:
    """Install what is missing, start the servers and wait until they answer.

    The authenticated endpoints come up too unless $COMPLAINTS_STACK_SECURED is 0.
    """
    install(with_prometheus=with_prometheus)
    ensure_signing_keys()
    security = wanted_security()
    start_ferretdb()
    if security:
        start_ferretdb_auth(security)
    start_kafka()
    wait_port("ferretdb", PORTS.mongo, 30)
    wait_port("kafka", PORTS.kafka, 90)
    log(f"ready: kafka={HOST}:{PORTS.kafka} mongo={HOST}:{PORTS.mongo}")
    if security:
        for port in (PORTS.kafka_sasl_ssl, PORTS.kafka_sasl_plaintext, PORTS.kafka_ssl):
            wait_port("kafka", port, 30)
        wait_port("ferretdb-auth", PORTS.mongo_auth, 30)
        wait_port("ferretdb-auth", PORTS.mongo_auth_tls, 30)
        ensure_principals(security)
        log(
            f"ready (authenticated): kafka SASL_SSL={security.kafka_sasl_ssl} "
            f"SASL_PLAINTEXT={security.kafka_sasl_plaintext} SSL={security.kafka_ssl} "
            f"mongo={security.mongo_auth} (TLS {security.mongo_auth_tls}); "
            f"credentials in {secrets_dir()}"
        )
    if with_prometheus:
        start_prometheus()
        log(f"ready: prometheus=http://{HOST}:{PORTS.prometheus}")


def down() -> None:
    """Stop every server this script started."""
    for name in ("prometheus", "kafka", "ferretdb-auth", "ferretdb"):
        stop(name)


def reset() -> None:
    """Stop everything and delete the servers' data (not the downloads)."""
    down()
    shutil.rmtree(STATE / "kafka" / "data", ignore_errors=True)
    shutil.rmtree(STATE / "ferretdb-data", ignore_errors=True)
    shutil.rmtree(STATE / "ferretdb-auth-data", ignore_errors=True)


def status() -> dict[str, dict[str, object]]:
    """Each endpoint: the pid of its server, its port, whether it listens."""
    report: dict[str, dict[str, object]] = {}
    for name, process, port in (
        ("kafka", "kafka", PORTS.kafka),
        ("ferretdb", "ferretdb", PORTS.mongo),
        ("prometheus", "prometheus", PORTS.prometheus),
        ("kafka-sasl-ssl", "kafka", PORTS.kafka_sasl_ssl),
        ("kafka-sasl-plaintext", "kafka", PORTS.kafka_sasl_plaintext),
        ("kafka-ssl", "kafka", PORTS.kafka_ssl),
        ("ferretdb-auth", "ferretdb-auth", PORTS.mongo_auth),
        ("ferretdb-auth-tls", "ferretdb-auth", PORTS.mongo_auth_tls),
    ):
        report[name] = {"pid": alive(process), "port": port, "listening": port_open(port)}
    return report


def print_env() -> None:
    """The endpoints, as KEY=value lines."""
    print(f"KAFKA_BOOTSTRAP={HOST}:{PORTS.kafka}")
    print(f"MONGO_URL=mongodb://{HOST}:{PORTS.mongo}")
    print(f"PROMETHEUS_URL=http://{HOST}:{PORTS.prometheus}")
    print(f"KAFKA_SASL_SSL_BOOTSTRAP={HOST}:{PORTS.kafka_sasl_ssl}")
    print(f"KAFKA_SASL_PLAINTEXT_BOOTSTRAP={HOST}:{PORTS.kafka_sasl_plaintext}")
    print(f"KAFKA_SSL_BOOTSTRAP={HOST}:{PORTS.kafka_ssl}")
    print(f"MONGO_AUTH_URL=mongodb://{HOST}:{PORTS.mongo_auth}/?authSource={MONGO_AUTH_SOURCE}")
    print(f"SECRETS_DIR={secrets_dir()}")


COMMANDS = ("install", "up", "down", "status", "reset", "env", "secured-env", "check-go", "acls")


def main(argv: list[str] | None = None, description: str = "") -> int:
    """Parse the command line and run one command; the exit status."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("command", choices=COMMANDS)
    parser.add_argument("--with-prometheus", action="store_true")
    parser.add_argument(
        "--strimzi", action="store_true", help="acls: as Strimzi KafkaUsers, not Markdown"
    )
    parser.add_argument(
        "--service", default="INTAKE", help="secured-env: the settings prefix (INTAKE, SLA, …)"
    )
    args = parser.parse_args(argv)
    if args.command == "install":
        install(with_prometheus=args.with_prometheus)
    elif args.command == "up":
        up(with_prometheus=args.with_prometheus)
    elif args.command == "down":
        down()
    elif args.command == "reset":
        reset()
    elif args.command == "status":
        report = status()
        print(json.dumps(report, indent=2))
        return 0 if all(report[k]["listening"] for k in ("kafka", "ferretdb")) else 1
    elif args.command == "env":
        print_env()
    elif args.command == "secured-env":
        # Dev-only credentials, printed on request: `eval "$(stack.py secured-env --service SLA)"`.
        for key, value in secured().service_env(args.service.upper()).items():
            print(f"export {key}={shlex.quote(value)}")
    elif args.command == "check-go":
        check_go()
    elif args.command == "acls":
        print(strimzi_users() if args.strimzi else markdown_table() + "\n", end="")
    return 0
