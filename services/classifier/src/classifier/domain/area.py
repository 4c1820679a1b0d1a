"""A crude location fingerprint for hot issues and mass incidents."""

from __future__ import annotations

import re

from classifier.domain.normalise import normalise

# Words that end a place name (小区, 花园, 村, 基站 …), longest first so 工业园区 beats 园区.
_SUFFIXES = sorted(
    [
        *("小区", "花园", "新村", "社区", "村委会", "村", "镇", "乡", "街道", "大厦", "大楼"),
        *("写字楼", "广场", "工业园区", "工业园", "园区", "开发区", "大学", "学院", "中学"),
        *("小学", "幼儿园", "医院", "商场", "公寓", "家园", "苑", "山庄", "号楼", "基站"),
        *("地铁站", "路", "街", "大道"),
    ],
    key=len,
    reverse=True,
)
# Characters that never belong to a place name: particles, pronouns, verbs of being and moving.
_NOT_NAME = (
    r"\s,.。!?;:、()“”\"'‘’【】《》"
    "在的住是我们你他她了到从于和与就都也还把被让给对向往离近这那个里内外上下家有没说"
)
_PLACE = re.compile(
    rf"(?:[^{_NOT_NAME}0-9]{{1,8}}|x{{2}})(?:\d+号?)?(?:{'|'.join(_SUFFIXES)})"
    rf"(?:\d+(?:号楼|栋|幢))?"
)

# Every place name ends in a suffix; most messages hold none, and this search is ~30x cheaper.
_ANY_SUFFIX = re.compile("|".join(_SUFFIXES))


def area_of(text: str) -> str | None:
    """The first place name in `text` (e.g. 阳光花园小区, xx小区12栋), normalised, or None."""
    return area_in(normalise(text))


def area_in(normalised: str) -> str | None:
    """`area_of` for text that is already normalised."""
    if _ANY_SUFFIX.search(normalised) is None:
        return None
    found = _PLACE.search(normalised)
    return found.group(0) if found else None
