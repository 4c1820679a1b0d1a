"""Referrals from a regulator or a superior body, with their case number and deadline."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from contracts.values import Channel
from intake.domain.formats.fields import (
    Submission,
    contact_fields,
    id_field,
    object_field,
    text_field,
    time_value,
    wrong_shape,
)

# Government hotlines (12345) and the group / provincial company forward work as superiors;
# everything else that refers a case (工信部, 通信管理局, 12315, 消协, 银保监) is a regulator.
_SUPERIOR_BODY = re.compile(r"集团|集團|上级|上級|省公司|总部|總部|政府|市长|市長|12345|领导|領導")


def read_referral(message: Mapping[str, Any], *, superior: bool) -> Submission:
    """A referred case: `referring_body`, `case_number`, `deadline` | `deadline_days`, `text`.

    The channel is superior for the `superior` format, or when `channel` says so, or when the
    referring body is a superior (集团/省公司/政府/12345); otherwise regulator.
    """
    body = text_field(message, "referring_body", "body", "source", required=True) or ""
    declared = text_field(message, "channel")
    if declared is not None and declared.strip().lower() not in {"regulator", "superior"}:
        raise wrong_shape("a referral's channel must be regulator or superior")
    if declared is None:
        is_superior = superior or _SUPERIOR_BODY.search(body) is not None
    else:
        is_superior = superior or declared.strip().lower() == "superior"
    channel = Channel.SUPERIOR if is_superior else Channel.REGULATOR
    case_number = id_field(message, "case_number", "their_case_number", "reference")
    referral = {"body": body.strip()}
    if case_number:
        referral["case_number"] = case_number
    complainant = object_field(message, "complainant")
    days = message.get("deadline_days")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int)):
        raise wrong_shape("field 'deadline_days' must be an integer")
    return Submission(
        channel=channel,
        text=text_field(message, "text", "content", "summary", required=True) or "",
        external_id=case_number,
        received_at=time_value(message, "received_at", "referred_at"),
        **contact_fields(complainant),
        referral=referral,
        referral_due=time_value(message, "deadline", "due_at", "reply_by"),
        referral_due_days=days,
        phone_in_text=True,
    )
