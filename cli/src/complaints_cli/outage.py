"""The outage scenario: many people complaining about one network outage, each in their own words.

One place for its wordings: the classifier's incident tests, the end-to-end incident test and the
fault suite's incident fault all build their complaints here.
"""

from __future__ import annotations

import json
from datetime import datetime

from complaints_cli.workload import RawMessage, synthetic_phone

WORDINGS = (
    "整个小区都没有信号了，手机打不出去",
    "我家这边突然没信号了，什么时候能恢复",
    "手机显示无服务，已经两个小时了",
    "今天中午以后手机没有信号，微信也发不出去",
    "家里手机没信号，邻居也一样，请尽快处理",
    "单位楼里突然无信号，客户电话都接不到",
    "手机一格信号都没有，打不了电话",
    "突然无服务，重启手机也没用",
)
"""Eight ways to say there is no signal, none naming a place."""
PLACES = ("东湖", "西山", "南屏", "北辰", "青松", "白杨", "红枫", "金桂", "银杏", "紫荆")
"""Streets a quarter of the complaints name, each a different one (no shared place name)."""
CHANNELS = ("hotline", "app", "wechat")


def outage_text(index: int, *, streets: bool = True) -> str:
    """The `index`-th complaint's words: the wordings in turn, each fourth naming its street."""
    text = WORDINGS[index % len(WORDINGS)]
    if streets and index % 4 == 0:
        return f"我在{PLACES[index // 4 % len(PLACES)]}路附近，{text}"
    return text


def outage_message(
    run_id: str,
    index: int,
    received: datetime,
    *,
    text: str | None = None,
    tier: str = "standard",
    streets: bool = True,
) -> RawMessage:
    """One complaint of the outage as a channel sends it: its own phone, channel by `index`."""
    external_id = f"{run_id}-{index:06d}"
    channel = CHANNELS[index % len(CHANNELS)]
    body = {
        "channel": channel,
        "external_id": external_id,
        "received_at": received.isoformat(),
        "text": text or outage_text(index, streets=streets),
        "complainant": {"phone": synthetic_phone(run_id, index), "tier": tier},
    }
    return RawMessage(
        key=f"{channel}:{external_id}".encode(),
        value=json.dumps(body, ensure_ascii=False).encode(),
        external_id=external_id,
    )
