"""The dev-only secrets of the authenticated endpoints: passwords, and what `secured()` hands out.

Random SCRAM passwords are generated once into .local/secrets/credentials.json (mode 0600); the
certificates come from `tls`. Nothing here is for production.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from complaints_stack.base import HOST, PORTS
from complaints_stack.kafka_acls import PRINCIPALS
from complaints_stack.tls import ensure_tls, secrets_dir

KAFKA_USER = "complaints"
MONGO_USER = "complaints"
MONGO_AUTH_SOURCE = "admin"


@dataclass(frozen=True)
class Secured:
    """The authenticated endpoints of the local stack and the dev-only credentials they accept."""

    ca_file: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    keystore: Path
    keystore_password: str
    kafka_username: str
    kafka_password: str
    mongo_username: str
    mongo_password: str
    mongo_auth_source: str = MONGO_AUTH_SOURCE
    kafka_sasl_ssl: str = f"{HOST}:{PORTS.kafka_sasl_ssl}"
    kafka_sasl_plaintext: str = f"{HOST}:{PORTS.kafka_sasl_plaintext}"
    kafka_ssl: str = f"{HOST}:{PORTS.kafka_ssl}"
    mongo_auth: str = f"{HOST}:{PORTS.mongo_auth}"
    mongo_auth_tls: str = f"{HOST}:{PORTS.mongo_auth_tls}"
    kafka_principals: dict[str, str] = field(default_factory=dict)
    """Each service principal's SCRAM password (kafka_acls.GRANTS says what each may do)."""

    def __repr__(self) -> str:  # never the passwords
        return f"Secured(kafka_sasl_ssl={self.kafka_sasl_ssl!r}, mongo_auth={self.mongo_auth!r})"

    def mongo_url(self, *, tls: bool = True, with_password: bool = True) -> str:
        """A MongoDB URL for the authenticated FerretDB (TLS port unless `tls=False`)."""
        host = self.mongo_auth_tls if tls else self.mongo_auth
        login = f"{quote(self.mongo_username, safe='')}:{quote(self.mongo_password, safe='')}@"
        query = f"authSource={self.mongo_auth_source}"
        if tls:
            query += f"&tls=true&tlsCAFile={quote(str(self.ca_file))}"
        return f"mongodb://{login if with_password else ''}{host}/?{query}"

    def kafka_login(self, principal: str) -> tuple[str, str]:
        """(username, password) of a service principal, or of the admin for any other name."""
        if principal in self.kafka_principals:
            return principal, self.kafka_principals[principal]
        return self.kafka_username, self.kafka_password

    def service_env(self, prefix: str) -> dict[str, str]:
        """Environment that points one service (INTAKE, SLA, …) at the authenticated endpoints,
        logged in to Kafka as that service's own principal (the admin for any other prefix)."""
        username, password = self.kafka_login(prefix.lower())
        return {
            f"{prefix}_KAFKA__BOOTSTRAP_SERVERS": self.kafka_sasl_ssl,
            f"{prefix}_KAFKA__SECURITY_PROTOCOL": "SASL_SSL",
            f"{prefix}_KAFKA__SASL_MECHANISM": "SCRAM-SHA-512",
            f"{prefix}_KAFKA__SASL_USERNAME": username,
            f"{prefix}_KAFKA__SASL_PASSWORD": password,
            f"{prefix}_KAFKA__SSL_CAFILE": str(self.ca_file),
            f"{prefix}_MONGO__URL": self.mongo_url(tls=True, with_password=False),
            f"{prefix}_MONGO__USERNAME": self.mongo_username,
            f"{prefix}_MONGO__PASSWORD": self.mongo_password,
        }


def _credentials() -> dict[str, str]:
    """The dev-only passwords, generated on first use and kept in .local/secrets/.

    Service principals' passwords are `kafka_password_<principal>`; one missing (a file from
    before the principal existed) is added, the others stay.
    """
    path = secrets_dir() / "credentials.json"
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    wanted = {
        "note": "dev-only credentials of the local stack (deploy/local/stack.py); "
        "not for any other use",
        "kafka_password": "",
        "mongo_password": "",
        "keystore_password": "",
        **{f"kafka_password_{principal}": "" for principal in PRINCIPALS},
    }
    missing = [key for key in wanted if key not in stored]
    if missing:
        stored |= {key: wanted[key] or secrets.token_urlsafe(24) for key in missing}
        path.touch(mode=0o600)
        path.write_text(json.dumps(stored, indent=2) + "\n")
    return stored


def secured() -> Secured:
    """The authenticated endpoints and their credentials; generates what is missing."""
    home = secrets_dir()
    home.mkdir(parents=True, exist_ok=True)
    home.chmod(0o700)
    creds = _credentials()
    ensure_tls(creds["keystore_password"])
    return Secured(
        ca_file=home / "ca.pem",
        server_cert=home / "server.pem",
        server_key=home / "server.key",
        client_cert=home / "client.pem",
        client_key=home / "client.key",
        keystore=home / "server.p12",
        keystore_password=creds["keystore_password"],
        kafka_username=KAFKA_USER,
        kafka_password=creds["kafka_password"],
        mongo_username=MONGO_USER,
        mongo_password=creds["mongo_password"],
        kafka_principals={p: creds[f"kafka_password_{p}"] for p in PRINCIPALS},
    )


def wanted_security() -> Secured | None:
    """The authenticated endpoints' material, unless $COMPLAINTS_STACK_SECURED is 0."""
    return secured() if os.environ.get("COMPLAINTS_STACK_SECURED", "1") != "0" else None
