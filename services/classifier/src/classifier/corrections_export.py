"""`python -m classifier.corrections_export`: staff regrades as the lines `make train` reads.

What `complaints classify export-corrections` runs. The MongoDB URL comes from the environment
(`CLASSIFIER_EXPORT_MONGO_URL`), never the command line, where other users could see it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from classifier.adapters.mongo_corrections import MongoCorrectionStore
from classifier.domain.regrade import Correction, training_line
from contracts import Channel, CustomerTier
from contracts.read_models import CLASSIFIED_EVENTS, COMPLAINT_TEXTS
from servicekit.mongo import Document
from servicekit.read_models import read

HEADER = (
    "# Staff corrections (`regraded` actions), exported {when} by `complaints classify "
    "export-corrections`.\n# label | severity | flags | channel | tier | text\n"
)


@dataclass(frozen=True)
class ExportOptions:
    """Where to read and where to write."""

    mongo_url: str
    database: str
    out: Path | None


async def training_lines(db: AsyncDatabase[Document]) -> tuple[list[str], int]:
    """One training line per complaint (its latest correction), and how many had no text.

    The text is the masked one of intake's `COMPLAINT_TEXTS`; channel and tier are those of
    the classifier's `CLASSIFIED_EVENTS`.
    """
    latest: dict[str, Correction] = {}
    for correction in await MongoCorrectionStore(db).corrections():
        latest[correction.complaint_id] = correction  # oldest first: the last one stands
    ids = sorted(latest)
    texts = {doc.id: doc.text for doc in await read(db, COMPLAINT_TEXTS, {"_id": {"$in": ids}})}
    events = {
        doc.id: doc.classified_event.data
        for doc in await read(db, CLASSIFIED_EVENTS, {"_id": {"$in": ids}})
    }
    lines, missing = [], 0
    for complaint_id in ids:
        text = texts.get(complaint_id, "")
        if not text.strip():
            missing += 1
            continue
        data = events.get(complaint_id)
        lines.append(
            training_line(
                latest[complaint_id],
                text=text,
                channel=data.channel if data else Channel.WEB,
                tier=data.customer_tier if data else CustomerTier.STANDARD,
            )
        )
    return lines, missing


async def _export(options: ExportOptions, out: TextIO) -> int:
    client: AsyncMongoClient[Document] = AsyncMongoClient(options.mongo_url, tz_aware=True)
    try:
        lines, missing = await training_lines(client[options.database])
    finally:
        await client.close()
    out.write(HEADER.format(when=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")))
    out.writelines(line + "\n" for line in lines)
    if missing:
        sys.stderr.write(f"export-corrections: {missing} corrected complaints have no text\n")
    return len(lines)


def export_command(options: ExportOptions) -> int:
    """Write the lines to `options.out` (or stdout); 2 when MongoDB cannot be read."""
    from pymongo.errors import PyMongoError

    try:
        if options.out is None:
            count = asyncio.run(_export(options, sys.stdout))
        else:
            with options.out.open("w", encoding="utf-8") as handle:
                count = asyncio.run(_export(options, handle))
    except PyMongoError as exc:
        sys.stderr.write(f"export-corrections: cannot read MongoDB ({type(exc).__name__})\n")
        return 2
    sys.stderr.write(f"export-corrections: {count} lines\n")
    return 0


MONGO_URL_ENV = "CLASSIFIER_EXPORT_MONGO_URL"


def main(argv: Sequence[str] | None = None) -> int:
    """`--database`, `--out` (default stdout); the URL from $CLASSIFIER_EXPORT_MONGO_URL."""
    parser = argparse.ArgumentParser(description="Staff regrades as training lines.")
    parser.add_argument("--database", default="complaints_demo")
    parser.add_argument("--out", type=Path, help="file to write (default: stdout)")
    args = parser.parse_args(argv)
    url = os.environ.get(MONGO_URL_ENV, "mongodb://127.0.0.1:27017")
    return export_command(ExportOptions(mongo_url=url, database=args.database, out=args.out))


if __name__ == "__main__":
    raise SystemExit(main())
