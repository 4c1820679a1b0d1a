"""The topic catalogue for downstream teams: AsyncAPI documents and one page per topic.

Generated, never hand-edited (`complaints catalogue --write`; a test regenerates it in memory and
compares). The sources are the code itself:

- each service writes its own AsyncAPI 3.0 document (`python -m <service>.docs`, run here as a
  process): FastStream generates it from the service's app, built by its own `create_app` with
  in-memory ports (nothing connects), with the publishers the service declares on its broker
  (`<service>.docs.PUBLISHES`, checked against its code by the catalogue test); one *receive*
  operation per subscription with the consumer group and the handler's docstring, one *send*
  operation per topic it publishes to;
- payloads are the contracts' pydantic models (the same JSON Schemas as `shared/schemas/`),
  partitions and retention come from `contracts.topics`, examples from the golden payloads;
- the Markdown pages read who publishes and who consumes back from those documents.

Modules: `asyncapi` collects the documents, `topic_pages` writes the Markdown, `catalogue_facts`
holds what only the catalogue knows; this one writes and checks files.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from complaints_cli.asyncapi import describe_all
from complaints_cli.catalogue_facts import ASYNCAPI_DIR, DOCS_DIR, REPO, ServiceEntry
from complaints_cli.topic_pages import index_page, topic_page
from contracts import Topic


def render_json(document: Mapping[str, Any]) -> str:
    """Stable text form, so the committed files diff cleanly."""
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def generate(entries: Sequence[ServiceEntry] | None = None) -> dict[Path, str]:
    """Every catalogue file, by path relative to the repository root (from `entries` if given,
    else from every service's app)."""
    entries = entries or describe_all()
    files = {ASYNCAPI_DIR / f"{e.service}.json": render_json(e.asyncapi) for e in entries}
    files[DOCS_DIR / "topics.md"] = index_page(entries)
    for topic in Topic:
        files[DOCS_DIR / "topics" / f"{topic.value}.md"] = topic_page(topic, entries)
    return files


def stale(files: Mapping[Path, str], root: Path) -> list[Path]:
    """Files missing or different under `root`, and generated-looking files no longer produced."""
    differ = [
        path
        for path, text in files.items()
        if not (root / path).exists() or (root / path).read_text(encoding="utf-8") != text
    ]
    leftovers = [
        path.relative_to(root)
        for pattern in (f"{ASYNCAPI_DIR}/*.json", f"{DOCS_DIR}/topics/*.md")
        for path in sorted(root.glob(pattern))
        if path.relative_to(root) not in files
    ]
    return sorted(differ + leftovers)


def write(files: Mapping[Path, str], root: Path) -> list[Path]:
    """Write the files that changed and delete the ones no longer produced."""
    changed = stale(files, root)
    for path in changed:
        if path in files:
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(files[path], encoding="utf-8")
        else:
            (root / path).unlink()
    return changed


def catalogue_command(*, write_files: bool, root: Path = REPO) -> int:
    """`--write`: bring the committed catalogue up to date; else list what is stale (exit 1)."""
    files = generate()
    if write_files:
        for path in write(files, root):
            sys.stdout.write(f"wrote {path}\n")
        return 0
    outdated = stale(files, root)
    for path in outdated:
        sys.stdout.write(f"stale {path}\n")
    if outdated:
        sys.stderr.write("complaints catalogue: out of date; run `complaints catalogue --write`\n")
        return 1
    sys.stdout.write(f"catalogue up to date ({len(files)} files)\n")
    return 0
