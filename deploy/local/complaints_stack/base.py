"""Where the local stack lives, the ports it listens on, and the two helpers every part uses."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parents[1]  # deploy/local: the pom, the Go main, the patches
STATE = Path(os.environ.get("COMPLAINTS_STACK_DIR", REPO / ".local"))
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Ports:
    """Loopback ports of the local servers; overridable for parallel stacks."""

    kafka: int = int(os.environ.get("COMPLAINTS_KAFKA_PORT", "9092"))
    controller: int = int(os.environ.get("COMPLAINTS_KAFKA_CONTROLLER_PORT", "9093"))
    mongo: int = int(os.environ.get("COMPLAINTS_MONGO_PORT", "27017"))
    prometheus: int = int(os.environ.get("COMPLAINTS_PROMETHEUS_PORT", "9090"))
    # The authenticated endpoints (see `secrets_tls.secured()`).
    kafka_sasl_ssl: int = int(os.environ.get("COMPLAINTS_KAFKA_SASL_SSL_PORT", "9094"))
    kafka_sasl_plaintext: int = int(os.environ.get("COMPLAINTS_KAFKA_SASL_PLAINTEXT_PORT", "9095"))
    kafka_ssl: int = int(os.environ.get("COMPLAINTS_KAFKA_SSL_PORT", "9096"))
    mongo_auth: int = int(os.environ.get("COMPLAINTS_MONGO_AUTH_PORT", "27018"))
    mongo_auth_tls: int = int(os.environ.get("COMPLAINTS_MONGO_AUTH_TLS_PORT", "27019"))


PORTS = Ports()


def log(message: str) -> None:
    """Progress for people: one line per step, on stderr."""
    print(f"[stack] {message}", file=sys.stderr, flush=True)


def run(cmd: list[str], **kwargs: object) -> None:
    """Run a command, failing loudly with its output."""
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"[stack] command failed ({result.returncode}): {' '.join(cmd)}")


def digest(data: bytes) -> str:
    """Hex SHA-256: fingerprints that decide whether a step must run again."""
    return hashlib.sha256(data).hexdigest()
