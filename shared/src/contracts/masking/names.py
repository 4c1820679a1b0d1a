"""Personal names in free text: found after cues such as 我叫 or 联系人：, surname kept."""

from __future__ import annotations

import re

# The commonest single-character surnames (about 85 % of the population), both scripts. A
# sentence like 我叫维修师傅上门 uses 叫 as a verb; only a surname after it makes it a name.
_SURNAMES = frozenset(
    "王李张張刘劉陈陳杨楊黄黃赵趙吴吳周徐孙孫马馬朱胡郭何林罗羅郑鄭梁谢謝宋唐许許韩韓冯馮"
    "邓鄧曹彭曾萧蕭肖田董袁潘蒋蔣蔡余餘杜叶葉程苏蘇魏吕呂丁任沈姚卢盧姜崔钟鐘谭譚陆陸汪范範"
    "金石廖贾賈夏韦韋付傅方邹鄒孟熊秦邱江尹薛闫閆段雷侯龙龍史陶黎贺賀顾顧毛郝龚龔邵万萬钱錢"
    "严嚴覃武戴莫孔汤湯欧歐高诸葛"
)
_TITLES = ("先生", "女士", "小姐", "师傅", "師傅", "老师", "老師")
_CJK = r"[\u4e00-\u9fff]"
# After a label and a colon a name is expected whatever it looks like (姓名：欧阳娜娜).
_AFTER_LABEL = re.compile(
    r"(?:姓名|联系人|聯繫人|聯系人|机主|機主|户主|戶主|投诉人|投訴人|申请人|申請人|客户|客戶)"
    rf"[:：]\s?({_CJK})({_CJK}{{1,3}})"
)
# Without a colon the cue may be an ordinary word (机主绑定, 联系人说): the surname decides.
_AFTER_WORDS = re.compile(
    r"(?:我叫|本人叫|我的名字[是叫]|名字叫|本人姓名[是为為]|本人|我是|营业员|營業員"
    r"|工号\s?\d*\s?的?|工號\s?\d*\s?的?"
    r"|(?:联系人|聯繫人|机主|機主|户主|戶主|投诉人|投訴人|申请人|申請人)[是为為])"
    rf"({_CJK})({_CJK}{{1,2}})"
)


def _mask(match: re.Match[str]) -> str:
    whole, rest = match.group(0), match.group(2)
    if rest.startswith(_TITLES):
        return whole
    return whole[: len(whole) - len(rest)] + "*" * len(rest)


def _mask_if_surname(match: re.Match[str]) -> str:
    return _mask(match) if match.group(1) in _SURNAMES else match.group(0)


def mask_names(text: str) -> str:
    """Keep the surname of a name that follows a cue and star the rest: 我叫张三 → 我叫张*."""
    return _AFTER_WORDS.sub(_mask_if_surname, _AFTER_LABEL.sub(_mask, text))
