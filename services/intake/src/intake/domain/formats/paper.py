"""Web forms, letters and walk-in register entries: forms with labelled fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts.values import Channel
from intake.domain.codes import parse_channel
from intake.domain.formats.fields import (
    Submission,
    id_field,
    join_text,
    object_field,
    text_field,
    time_value,
    wrong_shape,
)

# Web forms are often built by non-developers with Chinese labels as keys.
_LABELS: dict[str, str] = {
    "姓名": "name",
    "名字": "name",
    "联系人": "name",
    "聯繫人": "name",
    "电话": "phone",
    "電話": "phone",
    "手机": "phone",
    "手機": "phone",
    "手机号": "phone",
    "手機號": "phone",
    "联系电话": "phone",
    "聯繫電話": "phone",
    "邮箱": "email",
    "郵箱": "email",
    "电子邮件": "email",
    "電子郵件": "email",
    "地址": "address",
    "联系地址": "address",
    "聯繫地址": "address",
    "身份证号": "id_number",
    "身份證號": "id_number",
    "客户编号": "customer_id",
    "客戶編號": "customer_id",
    "账号": "customer_id",
    "賬號": "customer_id",
    "标题": "subject",
    "標題": "subject",
    "主题": "subject",
    "主題": "subject",
    "内容": "content",
    "內容": "content",
    "投诉内容": "content",
    "投訴內容": "content",
    "问题描述": "content",
    "問題描述": "content",
    "详细描述": "content",
    "詳細描述": "content",
}
_WEB_CHANNELS = {Channel.WEB, Channel.APP, Channel.WECHAT, Channel.FORUM}
_PAPER_MODES = {
    "letter": Channel.LETTER,
    "fax": Channel.FAX,
    "walk_in": Channel.WALK_IN,
    "visit": Channel.WALK_IN,
    "suggestion_box": Channel.SUGGESTION_BOX,
}


def _labelled(message: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for label, value in object_field(message, "fields").items():
        merged[_LABELS.get(label.strip(), label)] = value
    merged.update({key: value for key, value in message.items() if key != "fields"})
    return merged


def read_web_form(message: Mapping[str, Any]) -> Submission:
    """A web, app or WeChat form: flat fields or a `fields` object with Chinese labels.

    Fields: `submission_id`, `submitted_at`, `subject`, `content` | `message` | `text`, `name`,
    `phone`, `email`, `address`, `customer_id`, `tier`; `channel` may say app / wechat / forum.
    """
    form = _labelled(message)
    channel = parse_channel(form["channel"]) if "channel" in form else Channel.WEB
    if channel not in _WEB_CHANNELS:
        raise wrong_shape("a web form's channel must be web, app, wechat or forum")
    body = text_field(form, "content", "message", "text", "description", required=True)
    return Submission(
        channel=channel,
        text=join_text(text_field(form, "subject"), body),
        external_id=id_field(form, "submission_id", "form_id", "external_id"),
        received_at=time_value(form, "submitted_at", "received_at"),
        phone=id_field(form, "phone"),
        name=text_field(form, "name"),
        email=text_field(form, "email"),
        customer_id=id_field(form, "customer_id"),
        id_number=id_field(form, "id_number"),
        address=text_field(form, "address"),
        tier=text_field(form, "tier"),
    )


def read_letter(message: Mapping[str, Any], *, walk_in: bool) -> Submission:
    """A letter (or fax) log entry, or a walk-in register entry at a business hall.

    Fields: `register_no` | `letter_no` (external id), `received_on` | `visited_at`,
    `sender_name` | `visitor_name`, `sender_address`, `phone`, `summary` and/or `content`,
    `mode` (letter, fax, walk_in, suggestion_box), `location` (which hall, kept in original).
    """
    mode = text_field(message, "mode", "via")
    if walk_in:
        channel = Channel.WALK_IN
    elif mode is None:
        channel = Channel.LETTER
    elif mode.strip().lower() in _PAPER_MODES:
        channel = _PAPER_MODES[mode.strip().lower()]
    else:
        raise wrong_shape("field 'mode' must be letter, fax, walk_in or suggestion_box")
    summary = text_field(message, "summary")
    content = text_field(message, "content", "text", required=summary is None)
    return Submission(
        channel=channel,
        text=join_text(summary, content),
        external_id=id_field(message, "register_no", "letter_no", "external_id"),
        received_at=time_value(message, "received_on", "visited_at", "received_at"),
        phone=id_field(message, "phone", "sender_phone", "visitor_phone"),
        name=text_field(message, "sender_name", "visitor_name", "name"),
        email=text_field(message, "email"),
        customer_id=id_field(message, "customer_id"),
        id_number=id_field(message, "id_number"),
        address=text_field(message, "sender_address", "address"),
        tier=text_field(message, "tier"),
        phone_in_text=True,
    )
