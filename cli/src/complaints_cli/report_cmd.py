"""`complaints report`: read the database, compute the figures, write the page (report.py)."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from complaints_cli.report import REPORT_ZONE, gather, summarise
from complaints_cli.report_page import render


@dataclass(frozen=True)
class ReportOptions:
    """What `complaints report` was asked to do."""

    out: Path
    database: str
    mongo_url: str
    timezone: str = REPORT_ZONE


async def build(options: ReportOptions, *, now: datetime) -> str:
    """Read the database and return the page (the client is closed either way)."""
    from pydantic import SecretStr

    from servicekit.mongo import database, open_client
    from servicekit.settings import MongoSettings

    settings = MongoSettings(url=SecretStr(options.mongo_url), database=options.database)
    client = open_client(settings, app_name="complaints-report")
    try:
        sources = await gather(database(client, settings))
    finally:
        await client.close()
    return render(summarise(sources, now=now, database=options.database, timezone=options.timezone))


def report_command(options: ReportOptions) -> int:
    """Write the page; 2 when MongoDB cannot be read."""
    from pymongo.errors import PyMongoError

    try:
        page = asyncio.run(build(options, now=datetime.now(UTC)))
    except PyMongoError as exc:
        sys.stderr.write(f"complaints report: cannot read MongoDB ({type(exc).__name__})\n")
        return 2
    options.out.write_text(page, encoding="utf-8")
    sys.stdout.write(f"{options.out}\n")
    return 0
