"""Masking of personal data in contact fields; free text is masked by `contracts.masking`."""

from __future__ import annotations

from contracts.masking import mask_email, mask_text

__all__ = ["mask_email", "mask_name", "mask_phone", "mask_text"]


def mask_name(name: str | None) -> str | None:
    """张三 → 张*, 欧阳小明 → 欧***; the first character only."""
    if not name:
        return None
    stripped = name.strip()
    if not stripped:
        return None
    return stripped[0] + "*" * max(len(stripped) - 1, 1)


def mask_phone(phone_e164: str | None) -> str | None:
    """+8613812345678 → +86138****5678; other numbers keep the last four digits."""
    if not phone_e164:
        return None
    if phone_e164.startswith("+86") and len(phone_e164) == 14:
        return phone_e164[:6] + "****" + phone_e164[-4:]
    return phone_e164[:3] + "*" * max(len(phone_e164) - 7, 1) + phone_e164[-4:]
