"""No `*_published` mark collections: the committed offset is the mark (ADR 0003, issue 14).

Every stage stores its decision, publishes, then commits the input's offset; a second "published"
write per event buys nothing. This walks the project's own Python (everything but tests) and fails
for any string literal, or the literal tail of an f-string, that names a `<something>_published`
collection.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("shared", "libs", "services", "cli", "deploy", "scripts", "bench")
MARK = re.compile(r"(^|[^A-Za-z0-9])[A-Za-z0-9_]*_published$")
"""A whole string (or an f-string's last literal part) ending in `_published`: a collection name."""


def literals(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Every string constant (an f-string's literal parts included), with its line."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


def offenders() -> tuple[int, list[str]]:
    """How many modules were read, and `path:line` of each literal naming a mark collection."""
    found: list[str] = []
    read = 0
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*.py")):
            read += 1
            tree = ast.parse(path.read_text(encoding="utf-8"))
            found += [
                f"{path.relative_to(ROOT)}:{line}"
                for line, text in literals(tree)
                if "\n" not in text and MARK.search(text.strip())
            ]
    return read, found


def test_the_pattern_catches_a_mark_collection_and_spares_other_words() -> None:
    tree = ast.parse('db[f"{name}_published"]\nx = db["cases_published"]\ny = "was published"')
    assert {text for _, text in literals(tree) if MARK.search(text)} == {
        "_published",
        "cases_published",
    }


def test_no_code_names_a_published_mark_collection() -> None:
    read, found = offenders()
    assert read > 100, "the walk found too few modules to mean anything"
    assert found == [], "mark collections are gone (ADR 0003): store, publish, commit the offset"
