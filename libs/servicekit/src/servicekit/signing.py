"""Who wrote a record: an HMAC of its topic, key and bytes under the producing service's key.

Kafka ACLs stop a principal without the right from writing a topic, but not a client on a
listener whose user is a super user (the local PLAINTEXT listener, an operator's tool); the
signature travels with the record, so a consumer can tell the owning service's records from
anything else on the topic whatever listener they came through (ADR 0010).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from contracts import Topic
from servicekit.inbound import BatchHandler, Inbound, Rejection

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
    """Signing keys (<SERVICE>_SIGNING__KEYS): the service's own, and those of every producer
    whose records it verifies. The defaults are dev-only and public; set real ones."""

    model_config = ConfigDict(hide_input_in_errors=True)

    keys: dict[str, SecretStr] = Field(
        default_factory=_dev_keys, description="Signer name → HMAC key (SecretStr)."
    )

    def dev_only(self) -> list[str]:
        """The names whose key is still the public dev default."""
        dev = _dev_keys()
        return sorted(n for n, k in self.keys.items() if n in dev and k == dev[n])


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
        if name not in settings.keys:
            raise ValueError(f"no signing key for {name!r} in <SERVICE>_SIGNING__KEYS")
        return cls(name, settings.keys[name].get_secret_value().encode())

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
        return cls({n: k.get_secret_value().encode() for n, k in settings.keys.items()})

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

    def only_from(self, owner: str, handler: BatchHandler) -> BatchHandler:
        """`handler` for the records `owner` signed; the others are rejected (dead-lettered)."""

        async def verified(messages: Sequence[Inbound]) -> Sequence[Rejection]:
            refused: list[Rejection] = []
            accepted: list[Inbound] = []
            for message in messages:
                if (why := self.refusal(message, owner)) is None:
                    accepted.append(message)
                else:
                    refused.append(why)
            return [*refused, *(await handler(accepted) if accepted else [])]

        verified.__doc__ = handler.__doc__
        return verified
