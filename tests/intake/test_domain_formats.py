"""Golden tests: one message per channel format, and what intake makes of it."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.message import EmailMessage, Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from typing import Any

import pytest

from contracts.complaints import ComplaintNormalized
from contracts.values import Channel, CustomerTier
from intake.domain import Accepted, Rejected, RejectReason, process_raw

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
SECRET = b"test-secret"


def submit(message: dict[str, Any]) -> Accepted | Rejected:
    return process_raw(json.dumps(message, ensure_ascii=False).encode(), now=NOW, secret=SECRET)


def accept(message: dict[str, Any]) -> Accepted:
    result = submit(message)
    assert isinstance(result, Accepted), result
    return result


def test_generic_format_normalises_masks_and_keeps_unknown_fields() -> None:
    message = {
        "channel": " Walk-In ",
        "external_id": "HALL-7",
        "received_at": "2026-11-24 15:30:00",
        "text": "客戶反映服務(wù)廳經(jīng)理態度差，我叫張三豐，電話１３８１２３４５６７８",
        "complainant": {"phone": "138-1234-5678", "name": "張三豐", "tier": "金卡", "gender": "m"},
        "hall": "天河营业厅",
    }
    result = accept(message)
    complaint = result.complaint
    assert complaint.channel is Channel.WALK_IN
    assert complaint.external_id == "HALL-7"
    assert complaint.received_at == datetime(2026, 11, 24, 7, 30, tzinfo=UTC)
    assert complaint.received_at_local == "2026-11-24T15:30:00+08:00"
    assert complaint.text == "客戶反映服務廳經理態度差，我叫張**，電話138****5678"
    assert complaint.text_simplified == "客户反映服务厅经理态度差，我叫张**，电话138****5678"
    assert complaint.complainant.tier is CustomerTier.GOLD
    assert complaint.complainant.phone == "+86138****5678"
    assert complaint.complainant.name == "張**"
    assert complaint.complaint_id.startswith("CP20261124-")
    assert result.contact.phone_e164 == "+8613812345678"
    assert result.contact.name == "張三豐"
    assert result.original == message
    # The event must validate against the contract and carry no raw contact.
    event = ComplaintNormalized.build(
        data=complaint, subject=complaint.complaint_id, source="/t", time=NOW, cause="c"
    )
    wire = event.model_dump_json()
    assert "13812345678" not in wire
    assert "三豐" not in wire


def test_missing_time_is_now_and_unknown_tier_is_standard() -> None:
    result = accept({"channel": "app", "text": "网速慢", "complainant": {"tier": "铜牌"}})
    assert result.complaint.received_at == NOW
    assert result.complaint.complainant.tier is CustomerTier.STANDARD
    assert result.complaint.complainant_key is None
    assert result.original["complainant"]["tier"] == "铜牌"


def test_hotline_note_takes_call_id_and_number_from_the_note() -> None:
    result = accept(
        {
            "format": "hotline_note",
            "agent_id": "A0831",
            "call_id": "CALL-20261124-0001",
            "note": "客户来电反映：家里宽带断网三天，报修无人上门。联系电话：13900001111",
            "called_at": "2026-11-24T07:00:00Z",
            "line": "10086",
        }
    )
    complaint = result.complaint
    assert complaint.channel is Channel.HOTLINE
    assert complaint.external_id == "CALL-20261124-0001"
    assert result.contact.phone_e164 == "+8613900001111"
    assert complaint.complainant.has_phone
    assert "13900001111" not in complaint.text
    assert complaint.complainant_key is not None


def test_sms_with_epoch_gateway_time() -> None:
    sent = NOW - timedelta(hours=1)
    result = accept(
        {
            "format": "sms",
            "sender": "+86 137 0000 1111",
            "body": "又乱扣我流量费！！",
            "gateway_timestamp": int(sent.timestamp() * 1000),
            "message_id": "SM-1",
        }
    )
    assert result.complaint.channel is Channel.SMS
    assert result.complaint.received_at == sent
    assert result.contact.phone_e164 == "+8613700001111"


def test_web_form_with_chinese_labels() -> None:
    result = accept(
        {
            "format": "web_form",
            "channel": "wechat",
            "submission_id": 98765,
            "fields": {
                "姓名": "李四",
                "联系电话": "13500001111",
                "标题": "网速慢",
                "投诉内容": "晚上没法用",
            },
        }
    )
    complaint = result.complaint
    assert complaint.channel is Channel.WECHAT
    assert complaint.external_id == "98765"
    assert complaint.text == "网速慢\n晚上没法用"
    assert result.contact.name == "李四"
    assert complaint.complainant.name == "李*"


def test_referral_sets_channel_case_number_and_deadline() -> None:
    result = accept(
        {
            "format": "referral",
            "referring_body": "广东省通信管理局",
            "case_number": "YD-2026-00042",
            "deadline": "2026-12-05",
            "text": "用户申诉：未经同意变更套餐",
            "complainant": {"phone": "13600001111", "customer_id": "C-1"},
        }
    )
    complaint = result.complaint
    assert complaint.channel is Channel.REGULATOR
    assert complaint.referral == {"body": "广东省通信管理局", "case_number": "YD-2026-00042"}
    assert complaint.external_id == "YD-2026-00042"
    # A bare date is the end of that day in Shanghai.
    assert complaint.referral_due_at == datetime(2026, 12, 5, 15, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    ("message", "channel"),
    [
        ({"format": "superior", "referring_body": "省公司"}, Channel.SUPERIOR),
        ({"format": "referral", "referring_body": "市政府12345热线"}, Channel.SUPERIOR),
        (
            {"format": "referral", "referring_body": "12315", "channel": "superior"},
            Channel.SUPERIOR,
        ),
        ({"format": "referral", "referring_body": "消费者协会"}, Channel.REGULATOR),
    ],
)
def test_referral_channel(message: dict[str, Any], channel: Channel) -> None:
    result = accept({**message, "text": "转办：营业员态度差", "deadline_days": 15})
    assert result.complaint.channel is channel
    assert result.complaint.referral_due_at == NOW + timedelta(days=15)


def test_letter_and_walk_in_register() -> None:
    letter = accept(
        {
            "format": "letter",
            "letter_no": "XF-12",
            "received_on": "2026年11月20日",
            "sender_name": "王五",
            "sender_address": "广州市天河区中山大道1号",
            "summary": "来信反映：营业员辱骂客户",
        }
    )
    assert letter.complaint.channel is Channel.LETTER
    assert letter.complaint.received_at_local == "2026-11-20T00:00:00+08:00"
    assert letter.contact.address == "广州市天河区中山大道1号"
    walk_in = accept({"format": "walk_in", "visitor_name": "赵六", "content": "排队两小时"})
    assert walk_in.complaint.channel is Channel.WALK_IN
    fax = accept({"format": "letter", "mode": "fax", "content": "传真投诉"})
    assert fax.complaint.channel is Channel.FAX


def _email_payload(message: Message, *, as_base64: bool) -> dict[str, Any]:
    raw = message.as_bytes()
    if as_base64:
        return {"format": "email", "message_base64": base64.b64encode(raw).decode()}
    return {"format": "email", "message": raw.decode("utf-8")}


def test_email_quoted_printable_utf8() -> None:
    message = EmailMessage()
    message["Subject"] = "投诉：乱扣费"
    message["From"] = "张三 <zhangsan@example.com>"
    message["Date"] = "Tue, 24 Nov 2026 15:00:00 +0800"
    message["Message-ID"] = "<abc123@example.com>"
    message.set_content("本月话费多扣了50元。\n\n> 以前的邮件\n", cte="quoted-printable")
    assert "quoted-printable" in message.as_string()
    result = accept(_email_payload(message, as_base64=False))
    complaint = result.complaint
    assert complaint.channel is Channel.EMAIL
    assert complaint.external_id == "abc123@example.com"
    assert complaint.text == "投诉：乱扣费\n本月话费多扣了50元。"
    assert complaint.received_at == datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
    assert result.contact.email == "zhangsan@example.com"
    assert result.contact.name == "张三"
    assert complaint.complainant.has_email


def test_email_gb18030_multipart_with_encoded_subject() -> None:
    message = MIMEMultipart("alternative")
    message["Subject"] = Header("基站辐射投訴", "gb18030").encode()
    message["From"] = "someone@example.cn"
    message.attach(MIMEText("小區新建基站，擔心輻射。", "plain", "gb18030"))
    message.attach(MIMEText("<p>ignored</p>", "html", "utf-8"))
    result = accept(_email_payload(message, as_base64=False))
    assert result.complaint.text == "基站辐射投訴\n小區新建基站，擔心輻射。"
    assert result.complaint.text_simplified == "基站辐射投诉\n小区新建基站，担心辐射。"


def test_email_8bit_gbk_body_labelled_gb2312() -> None:
    # 镕 is in GBK but not GB2312: mailers mislabel it, intake reads it anyway.
    message = Message()
    message["Subject"] = "complaint"
    message["Content-Type"] = 'text/plain; charset="gb2312"'
    message["Content-Transfer-Encoding"] = "8bit"
    body = "朱镕基路营业厅服务差".encode("gbk")
    message.set_payload(body.decode("ascii", "surrogateescape"))
    result = accept(_email_payload(message, as_base64=True))
    assert result.complaint.text == "complaint\n朱镕基路营业厅服务差"
    assert result.complaint.received_at == NOW


def test_email_html_only_body_loses_its_tags() -> None:
    message = EmailMessage()
    message["Subject"] = "网速"
    message.set_content("<html><style>p{}</style><p>网速&amp;信号差</p></html>", subtype="html")
    result = accept(_email_payload(message, as_base64=False))
    assert result.complaint.text == "网速\n网速&信号差"


def test_email_with_bad_base64_is_wrong_shape() -> None:
    result = submit({"format": "email", "message_base64": "***"})
    assert isinstance(result, Rejected)
    assert result.reason is RejectReason.WRONG_SHAPE
