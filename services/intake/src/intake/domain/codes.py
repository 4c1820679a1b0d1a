"""Channel codes and customer tiers as channels spell them."""

from __future__ import annotations

import re

from contracts.values import Channel, CustomerTier
from intake.domain.results import RejectError, RejectReason

_SEPARATORS = re.compile(r"[\s\-]+")
_TIERS: dict[str, CustomerTier] = {
    "standard": CustomerTier.STANDARD,
    "normal": CustomerTier.STANDARD,
    "regular": CustomerTier.STANDARD,
    "普通": CustomerTier.STANDARD,
    "普卡": CustomerTier.STANDARD,
    "silver": CustomerTier.SILVER,
    "银卡": CustomerTier.SILVER,
    "銀卡": CustomerTier.SILVER,
    "gold": CustomerTier.GOLD,
    "金卡": CustomerTier.GOLD,
    # 金卡及以上 is where VIP treatment starts (DOMAIN.md §3), so a bare VIP is at least gold.
    "vip": CustomerTier.GOLD,
    "platinum": CustomerTier.PLATINUM,
    "白金": CustomerTier.PLATINUM,
    "白金卡": CustomerTier.PLATINUM,
    "diamond": CustomerTier.DIAMOND,
    "钻石": CustomerTier.DIAMOND,
    "鑽石": CustomerTier.DIAMOND,
    "钻石卡": CustomerTier.DIAMOND,
    "鑽石卡": CustomerTier.DIAMOND,
    "government": CustomerTier.GOVERNMENT,
    "gov": CustomerTier.GOVERNMENT,
    "政府": CustomerTier.GOVERNMENT,
    "enterprise_a": CustomerTier.ENTERPRISE_A,
    "a": CustomerTier.ENTERPRISE_A,
    "a类集团": CustomerTier.ENTERPRISE_A,
    "a類集團": CustomerTier.ENTERPRISE_A,
    "a级集团": CustomerTier.ENTERPRISE_A,
    "a級集團": CustomerTier.ENTERPRISE_A,
}


def _key(value: str) -> str:
    return _SEPARATORS.sub("_", value.strip().lower()).strip("_")


def parse_channel(value: object) -> Channel:
    """The channel for a code, accepting case, whitespace and hyphen variants (Walk-In)."""
    if not isinstance(value, str):
        raise RejectError(RejectReason.WRONG_SHAPE, "field 'channel' must be a string")
    try:
        return Channel(_key(value))
    except ValueError:
        raise RejectError(
            RejectReason.UNKNOWN_CHANNEL, "channel is not one of the known channel codes"
        ) from None


def parse_tier(value: str | None) -> CustomerTier:
    """The customer tier for a channel's spelling; anything unknown is standard."""
    if not value:
        return CustomerTier.STANDARD
    return _TIERS.get(_key(value), CustomerTier.STANDARD)
