"""Deterministic complaint ids and pseudonymous complainant keys."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from intake.domain.timestamps import SHANGHAI

# Crockford's base32: digits and capitals without I, L, O, U, so ids read aloud unambiguously.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ID_CHARS = 10


def _base32(digest: bytes, length: int) -> str:
    number = int.from_bytes(digest[:8], "big")
    chars = []
    for _ in range(length):
        number, index = divmod(number, 32)
        chars.append(_ALPHABET[index])
    return "".join(chars)


def complaint_id_for(
    *, channel: str, external_id: str | None, payload: bytes, received_at: datetime
) -> str:
    """CP + receipt date (Asia/Shanghai) + 10 characters of a hash of the message's identity.

    The same (channel, external id) always hashes alike; without an external id the payload
    bytes are the identity, so a redelivered message gets the same id.
    """
    hasher = hashlib.sha256()
    if external_id is not None:
        hasher.update(
            b"ext\x00" + channel.encode() + b"\x00" + external_id.encode("utf-8", "surrogatepass")
        )
    else:
        hasher.update(b"raw\x00" + channel.encode() + b"\x00" + payload)
    date = received_at.astimezone(SHANGHAI).strftime("%Y%m%d")
    return f"CP{date}-{_base32(hasher.digest(), _ID_CHARS)}"


def complainant_key_for(
    *, phone_e164: str | None, customer_id: str | None, secret: bytes
) -> str | None:
    """'ck_' + 32 hex of HMAC-SHA256 over the phone (preferred) or the customer id."""
    if phone_e164:
        message = b"phone\x00" + phone_e164.encode("utf-8", "surrogatepass")
    elif customer_id and customer_id.strip():
        message = b"customer\x00" + customer_id.strip().encode("utf-8", "surrogatepass")
    else:
        return None
    return "ck_" + hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]
