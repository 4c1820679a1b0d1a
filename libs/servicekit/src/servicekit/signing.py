"""Who wrote a record: an HMAC of its topic, key and bytes under the producing service's key.

Kafka ACLs stop a principal without the right from writing a topic, but not a client on a
listener whose user is a super user (the local PLAINTEXT listener, an operator's tool); the
signature travels with the record, so a consumer can tell the owning service's records from
anything else on the topic whatever listener they came through (ADR 0010).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from contracts import Topic
from servicekit.inbound import Inbound, Rejection

SIGNER_HEADER = "complaints-signer"
SIGNATURE_HEADER = "complaints-signature"
SERVICES = ("intake", "classifier", "sla", "notifier")

WRITER: dict[Topic, str] = {
    Topic.LIFECYCLE: "sla",
    Topic.SLA: "sla",
    Topic.NOTIFICATION_SENT: "notifier",
    Topic.INCIDENTS: "classifier",  # a forged `closed` would text every member "restored"
}
"""Topics whose consumers act only on the owning service's signed records (docs/security.md)."""


def _dev_keys() -> dict[str, SecretStr]:
    return {name: SecretStr(f"dev-only-{name}-signing-key") for name in SERVICES}


class SigningSettings(BaseModel):
    """Signing keys: the service's own, and those of every producer whose records it verifies,
    from `<SERVICE>_SIGNING__KEYS` (JSON) and / or `<SERVICE>_SIGNING__KEYS_FILE` (a JSON file, a
    mounted secret). None by default: a service without its own key refuses to start. The public
    dev-only keys only on request (`<SERVICE>_SIGNING__DEV_KEYS=true`: tests, a laptop)."""

    model_config = ConfigDict(hide_input_in_errors=True)

    keys: dict[str, SecretStr] = Field(
        default_factory=dict, description="Signer name → HMAC key (SecretStr); wins over the file."
    )
    keys_file: Path | None = Field(
        None, description='A JSON file {"<signer>": "<key>", …} (e.g. a Kubernetes secret).'
    )
    dev_keys: bool = Field(
        False, description="Fill missing keys with the public dev-only ones (never in production)."
    )

    def resolved(self) -> dict[str, SecretStr]:
        """Every key: the dev ones if asked for, then the file's, then the environment's."""
        found = _dev_keys() if self.dev_keys else {}
        if self.keys_file is not None:
            try:
                raw = json.loads(self.keys_file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ValueError(
                    f"signing keys_file {self.keys_file}: {type(exc).__name__}"
                ) from None
            if not isinstance(raw, dict) or not all(isinstance(v, str) and v for v in raw.values()):
                raise ValueError(f"signing keys_file {self.keys_file}: not a JSON object of keys")
            found |= {str(name): SecretStr(key) for name, key in raw.items()}
        return found | self.keys

    def dev_only(self) -> list[str]:
        """The names whose key is still the public dev default."""
        dev = _dev_keys()
        return sorted(n for n, k in self.resolved().items() if n in dev and k == dev[n])


def signature(key: bytes, topic: str, record_key: bytes | None, value: bytes) -> str:
    """HMAC-SHA256 over topic, key and value, each length-prefixed (no part can bleed into
    another); a missing key counts as empty, as the test broker delivers it."""
    mac = hmac.new(key, digestmod=hashlib.sha256)
    for part in (topic.encode(), record_key or b"", value):
        mac.update(len(part).to_bytes(8, "big"))
        mac.update(part)
    return mac.hexdigest()


@dataclass(frozen=True)
class Signer:
    """Signs what one service publishes."""

    name: str
    key: bytes

    @classmethod
    def of(cls, name: str, settings: SigningSettings) -> Signer:
        """The service's signer; a service without its own key refuses to start."""
        keys = settings.resolved()
        if name not in keys:
            prefix = name.upper()
            raise ValueError(
                f"no signing key for {name!r}: set {prefix}_SIGNING__KEYS or "
                f"{prefix}_SIGNING__KEYS_FILE ({prefix}_SIGNING__DEV_KEYS=true on a dev machine)"
            )
        return cls(name, keys[name].get_secret_value().encode())

    def headers(self, topic: str, record_key: bytes | None, value: bytes) -> dict[str, str]:
        """The headers that prove this service wrote the record."""
        return {
            SIGNER_HEADER: self.name,
            SIGNATURE_HEADER: signature(self.key, topic, record_key, value),
        }


@dataclass(frozen=True)
class Verifier:
    """Checks records against their owning service's key."""

    keys: Mapping[str, bytes]

    @classmethod
    def of(cls, settings: SigningSettings) -> Verifier:
        """Every key the settings hold."""
        return cls({n: k.get_secret_value().encode() for n, k in settings.resolved().items()})

    def refusal(self, message: Inbound, owner: str) -> Rejection | None:
        """Why `message` is not `owner`'s record, or None if its signature proves it is."""
        signers = [v for k, v in message.headers if k == SIGNER_HEADER]
        signatures = [v for k, v in message.headers if k == SIGNATURE_HEADER]
        if not signers or not signatures:
            detail = f"no signature: only {owner} writes {message.topic}"
            return Rejection(message, "unsigned", detail)
        if len(signers) > 1 or len(signatures) > 1:
            return Rejection(message, "forged_signature", "more than one signature header")
        signer = signers[0].decode(errors="replace")
        if signer != owner:
            detail = f"signed by {signer[:40]!r}; only {owner} writes {message.topic}"
            return Rejection(message, "wrong_signer", detail)
        key = self.keys.get(owner)
        if key is None:
            return Rejection(message, "unverifiable", f"no signing key of {owner} configured")
        expected = signature(key, message.topic, message.key, message.value).encode()
        if not hmac.compare_digest(expected, signatures[0]):
            detail = f"the signature does not match the record under {owner}'s key"
            return Rejection(message, "forged_signature", detail)
        return None

    def checker(self, owner: str) -> Callable[[Inbound], Rejection | None]:
        """The check that a record is `owner`'s (None) or why not; without `owner`'s key the
        service refuses to start (it could verify nothing)."""
        if owner not in self.keys:
            raise ValueError(f"no signing key of {owner!r} to verify its records with")
        return lambda message: self.refusal(message, owner)
