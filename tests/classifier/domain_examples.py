"""The examples DOMAIN.md gives, read from the document itself (issue 16).

DOMAIN.md is the product's domain rules; it lives beside the repository
(`../shared/design/DOMAIN.md`, or the path in `$DOMAIN_MD`). Nothing here copies an example or
its result: each is taken from the table row or sentence that states it, with what that row
says should come of it.

- §1: the channels named over-level by definition;
- §2: every keyword of the taxonomy table, with its category;
- §3: every Chinese example in the parentheses of a severity row, with the row's level; an
  example the row calls out as *not* counting ("a negation such as 不會起訴 is not a threat")
  must not get that row's level. These are cues, so each goes into one plain complaint
  (`CARRIER`, which grades P4 on its own).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_MD = Path(os.environ.get("DOMAIN_MD", ROOT.parent / "shared" / "design" / "DOMAIN.md"))

_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN_WORD = re.compile(r"[a-z]{3,}")
_ROW = re.compile(r"^\|\s*`(?P<code>[A-Za-z_0-9]+)`\s*\|(?P<rest>.*)\|\s*$")
_PARENS = re.compile(r"\(([^()]*)\)")
_NOT_EXAMPLE = re.compile(r"such as ([\u3400-\u9fff0-9]+) is not")
CARRIER = "{}，话费的事你们到底管不管？"
"""A §3 example is a cue inside a complaint: put in this one, which grades P4 without it."""
_OVER_LEVEL = re.compile(r"Channels ((?:`[a-z_]+`(?:, | and )?)+) are \*\*over-level")


@dataclass(frozen=True)
class Example:
    """One example: the words, where DOMAIN.md states it, and what should come of it."""

    id: str
    text: str
    channel: str = "web"
    category: str | None = None  # the top category it must get
    severity: str | None = None  # the level it must get at least
    not_severity: str | None = None  # a level it must not reach
    flag: str | None = None  # a flag it must carry


def read() -> str:
    """DOMAIN.md's text; a clear failure if it is not where the project keeps it."""
    if not DOMAIN_MD.is_file():
        raise FileNotFoundError(f"DOMAIN.md not found at {DOMAIN_MD} (set $DOMAIN_MD)")
    return DOMAIN_MD.read_text(encoding="utf-8")


def _section(text: str, number: int) -> str:
    """The body of `## <number>.` up to the next `## `."""
    start = text.index(f"\n## {number}.")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def _is_example(item: str) -> bool:
    """A customer's words: Chinese, no English prose, not a source reference like `000`."""
    return bool(_CJK.search(item)) and not _LATIN_WORD.search(item) and ":" not in item


def over_level_channels(text: str) -> list[Example]:
    """§1: each channel DOMAIN.md calls over-level by definition, with a plain complaint."""
    found = _OVER_LEVEL.search(_section(text, 1))
    assert found, "§1 no longer names the over-level channels"
    channels = re.findall(r"`([a-z_]+)`", found.group(1))
    plain = "话费这个月多扣了三十块，麻烦查一下退给我"
    return [
        Example(id=f"s1-{c}", text=plain, channel=c, severity="P2", flag="over_level")
        for c in channels
    ]


def taxonomy_keywords(text: str) -> list[Example]:
    """§2: every keyword of the taxonomy table with its top category (`other` has none)."""
    examples = []
    for line in _section(text, 2).splitlines():
        row = _ROW.match(line)
        if not row:
            continue
        code = row.group("code")
        cells = [c.strip() for c in row.group("rest").split("|")]
        for n, cell in enumerate(w.strip() for w in cells[-1].split(",")):
            word = re.sub(r"\s*\([a-z ]+\)$", "", cell)  # "(at sale)": a note, not words
            if _is_example(word):
                examples.append(Example(id=f"s2-{code}-{n}", text=word, category=code))
    return examples


def severity_examples(text: str) -> list[Example]:
    """§3: the Chinese examples in each level's row, and those the row says do not count."""
    examples = []
    for line in _section(text, 3).splitlines():
        row = _ROW.match(line)
        if not row or not re.fullmatch(r"P[1-4]", row.group("code")):
            continue
        level = row.group("code")
        for group_at, group in enumerate(_PARENS.findall(row.group("rest"))):
            head = re.split(r"\s+—\s+|;", group)[0]
            for n, item in enumerate(i.strip() for i in head.split(",")):
                if _is_example(item):
                    examples.append(
                        Example(
                            id=f"s3-{level}-{group_at}-{n}",
                            text=CARRIER.format(item),
                            severity=level,
                        )
                    )
            for n, counter in enumerate(_NOT_EXAMPLE.findall(group)):
                examples.append(
                    Example(
                        id=f"s3-{level}-{group_at}-not{n}",
                        text=CARRIER.format(counter),
                        not_severity=level,
                    )
                )
    return examples


def all_examples() -> list[Example]:
    """Every example DOMAIN.md gives, in document order."""
    text = read()
    return [*over_level_channels(text), *taxonomy_keywords(text), *severity_examples(text)]
