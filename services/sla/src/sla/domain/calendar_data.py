"""Official holidays and makeup workdays: chinese-calendar data plus yearly override files."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as dist_version
from pathlib import Path
from typing import Any

import chinese_calendar.constants as cc_constants

from sla.domain.errors import PolicyError
from sla.domain.packfile import read_yaml_mapping

_OVERRIDE_NAME = re.compile(r"^cn-(\d{4})\.ya?ml$")


@dataclass(frozen=True)
class HolidayData:
    """Which dates are holidays or makeup workdays, for which years, and from what source."""

    holidays: dict[date, str]
    workdays: dict[date, str]
    covered_years: frozenset[int]
    provisional_years: frozenset[int]
    version: str


@dataclass(frozen=True)
class _Override:
    year: int
    version: str
    provisional: bool
    holidays: dict[date, str]
    workdays: dict[date, str]


def _package_version() -> str:
    try:
        return dist_version("chinesecalendar")
    except PackageNotFoundError:  # pragma: no cover - vendored copies have no metadata
        return "unknown"


def _dates(raw: Any, *, year: int, field: str, path: Path) -> dict[date, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise PolicyError(f"{path}: `{field}` must map dates to names")
    out: dict[date, str] = {}
    for key, name in raw.items():
        try:
            day = key if isinstance(key, date) else date.fromisoformat(str(key))
        except ValueError as exc:
            raise PolicyError(f"{path}: `{field}` has a bad date {key!r}") from exc
        if day.year != year:
            raise PolicyError(f"{path}: {day} is outside year {year}")
        out[day] = str(name)
    return out


def _read_override(path: Path) -> _Override:
    data = read_yaml_mapping(path)
    match = _OVERRIDE_NAME.match(path.name)
    year = data.get("year")
    if match is None or not isinstance(year, int) or int(match.group(1)) != year:
        raise PolicyError(f"{path}: file name must be cn-<year>.yaml and match `year`")
    if "version" not in data:
        raise PolicyError(f"{path}: `version` is required")
    status = str(data.get("status", "official"))
    if status not in {"official", "provisional"}:
        raise PolicyError(f"{path}: `status` must be official or provisional")
    holidays = _dates(data.get("holidays"), year=year, field="holidays", path=path)
    workdays = _dates(data.get("workdays"), year=year, field="workdays", path=path)
    both = holidays.keys() & workdays.keys()
    if both:
        raise PolicyError(f"{path}: dates listed as both holiday and workday: {sorted(both)}")
    return _Override(
        year=year,
        version=str(data["version"]),
        provisional=status == "provisional",
        holidays=holidays,
        workdays=workdays,
    )


def load_holiday_data(calendar_dir: Path) -> HolidayData:
    """Merge the package's data with every cn-<year>.yaml in `calendar_dir` (an override wins)."""
    holidays: dict[date, str] = {d: str(n) for d, n in cc_constants.holidays.items()}
    workdays: dict[date, str] = {d: str(n) for d, n in cc_constants.workdays.items()}
    covered = {d.year for d in holidays}
    parts = [f"chinese-calendar {_package_version()}"]
    provisional: set[int] = set()
    files = sorted(calendar_dir.glob("cn-*.y*ml")) if calendar_dir.is_dir() else []
    for path in files:
        override = _read_override(path)
        # An override replaces the package's whole year: it may correct as well as extend.
        holidays = {d: n for d, n in holidays.items() if d.year != override.year}
        workdays = {d: n for d, n in workdays.items() if d.year != override.year}
        holidays.update(override.holidays)
        workdays.update(override.workdays)
        covered.add(override.year)
        label = f"cn-{override.year} override v{override.version}"
        if override.provisional:
            provisional.add(override.year)
            label += " (provisional)"
        parts.append(label)
    return HolidayData(
        holidays=holidays,
        workdays=workdays,
        covered_years=frozenset(covered),
        provisional_years=frozenset(provisional),
        version=" + ".join(parts),
    )


_PROVISIONAL = re.compile(r"cn-(\d{4}) override v\S+ \(provisional\)")


@functools.lru_cache(maxsize=64)  # a handful of version strings, asked for every entry shown
@functools.lru_cache(maxsize=256)
def provisional_years_in(version: str) -> frozenset[int]:
    """The years a calendar version string names as answered from a provisional override (a
    pure function of the string; the few versions a process sees are parsed once each)."""
    return frozenset(int(year) for year in _PROVISIONAL.findall(version))
