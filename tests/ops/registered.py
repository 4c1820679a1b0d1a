"""What the four services really register: each app built with in-memory ports, /metrics read.

Nothing connects: the apps are never started; their ASGI `/metrics` route answers from the
registry the service shell filled while the app was assembled.
"""

from __future__ import annotations

import asyncio
import re
from functools import cache
from pathlib import Path

import httpx
from faststream.asgi import AsgiFastStream

from tests._builders.apps import BUILDERS

REPO = Path(__file__).resolve().parents[2]
SERVICES = tuple(BUILDERS)

_TYPE_LINE = re.compile(r"^# TYPE (\S+) (\S+)$", re.MULTILINE)
_HISTOGRAM_SERIES = ("_bucket", "_count", "_sum")


async def _scrape(app: AsgiFastStream) -> str:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        response = await client.get("/metrics")
    response.raise_for_status()
    return response.text


@cache
def exposition(service: str) -> str:
    """The service's /metrics page right after assembly."""
    return asyncio.run(_scrape(BUILDERS[service]()))


def series_names(text: str) -> dict[str, str]:
    """Every series name a /metrics page can carry, with its metric type.

    Counters are declared with their `_total` name; a histogram `x` yields `x_bucket`, `x_count`
    and `x_sum`. Labelled metrics appear (HELP and TYPE lines) before their first sample.
    """
    names: dict[str, str] = {}
    for name, kind in _TYPE_LINE.findall(text):
        names[name] = kind
        if kind == "histogram":
            names |= {name + suffix: kind for suffix in _HISTOGRAM_SERIES}
    return names


@cache
def registered() -> dict[str, dict[str, str]]:
    """Series names per service."""
    return {service: series_names(exposition(service)) for service in SERVICES}


def all_series() -> set[str]:
    """Every series name any service exports."""
    return {name for names in registered().values() for name in names}
