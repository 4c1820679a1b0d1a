"""Channel formats: which reader turns a parsed message into a `Submission`.

Without a `format` field a message is the generic shape (`channel` + `text`, see
`contracts.RawComplaintSubmitted`). Otherwise `format` picks a reader (case, `-`/`_` ignored):

- `hotline_note` → hotline: `call_id`, `called_at`, `caller_number`, `note` (客户来电反映…).
- `sms` → sms: `message_id`, `sender`, `body`, `gateway_timestamp` (epoch s / ms or ISO).
- `web_form` → web, app, wechat or forum: `submission_id`, `submitted_at`, `subject`,
  `content`, or Chinese labels under `fields` (姓名, 联系电话, 投诉内容 …).
- `email` → email: `message` (RFC 5322 text) or `message_base64` (raw bytes, for 8-bit GBK);
  Message-ID, Date, From, Subject and the first text part are read.
- `referral` → regulator, `superior` → superior: `referring_body`, `case_number`, `deadline`
  or `deadline_days`, `text`.
- `letter` → letter or fax (`mode`), `walk_in` → walk_in: `register_no`, `received_on` /
  `visited_at`, `sender_name` / `visitor_name`, `summary` and `content`.

Every reader's docstring lists its fields; unknown fields are kept in `Accepted.original`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from intake.domain.formats.fields import Submission
from intake.domain.formats.generic import read_generic
from intake.domain.formats.mail import read_email
from intake.domain.formats.paper import read_letter, read_web_form
from intake.domain.formats.referral import read_referral
from intake.domain.formats.voice import read_hotline_note, read_sms
from intake.domain.results import RejectError, RejectReason

Reader = Callable[[Mapping[str, Any]], Submission]

READERS: dict[str, Reader] = {
    "generic": read_generic,
    "hotline_note": read_hotline_note,
    "sms": read_sms,
    "web_form": read_web_form,
    "email": read_email,
    "referral": lambda message: read_referral(message, superior=False),
    "superior": lambda message: read_referral(message, superior=True),
    "letter": lambda message: read_letter(message, walk_in=False),
    "walk_in": lambda message: read_letter(message, walk_in=True),
}
"""Format names accepted in the `format` field; without one the message must be generic."""


def read_submission(message: Mapping[str, Any]) -> Submission:
    """Detect the message's format and read it."""
    declared = message.get("format")
    if declared is None:
        if "channel" in message or "text" in message:
            return read_generic(message)
        raise RejectError(
            RejectReason.UNKNOWN_FORMAT, "no 'format' field and not the generic channel/text shape"
        )
    if not isinstance(declared, str):
        raise RejectError(RejectReason.WRONG_SHAPE, "field 'format' must be a string")
    reader = READERS.get(declared.strip().lower().replace("-", "_"))
    if reader is None:
        raise RejectError(RejectReason.UNKNOWN_FORMAT, "the 'format' is not one intake reads")
    return reader(message)


__all__ = ["READERS", "Submission", "read_submission"]
