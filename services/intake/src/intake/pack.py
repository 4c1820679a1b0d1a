"""Intake's settings from the policy pack: how far back each channel may date a receipt.

`policies/<pack>/intake.yaml` (optional; without it the defaults of `IntakeLimits` hold):

    receipt:
      allowance: 72h                 # every channel not listed below
      late_channels:                 # channels whose complaints really arrive late
        letter: {allowance: 30d, reason: post takes days}

Amounts are natural time (`<number><min|h|d>`): a receipt time is a moment, not working time.
A bad file stops the service at start, naming the file and the setting.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from contracts import Channel
from intake.domain import IntakeLimits
from servicekit.packfile import read_yaml

_AMOUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(min|h|d)\s*$")
_UNIT = {"min": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
MAX_REASON = 200


class IntakePackError(ValueError):
    """An intake.yaml that cannot be used, with the file and the setting named."""


def intake_file(*, policy_dir: Path, pack: str) -> Path:
    """Where a pack keeps intake's settings."""
    return policy_dir / pack / "intake.yaml"


def load_limits(*, policy_dir: Path, pack: str) -> IntakeLimits:
    """The pack's intake limits (the defaults where the pack has no intake.yaml)."""
    path = intake_file(policy_dir=policy_dir, pack=pack)
    if not path.is_file():
        return IntakeLimits()
    try:
        return limits_from(read_yaml(path, IntakePackError))
    except IntakePackError as exc:
        message = str(exc)
        raise IntakePackError(message if str(path) in message else f"{path}: {message}") from None


def limits_from(data: Any, defaults: IntakeLimits | None = None) -> IntakeLimits:
    """Validate a parsed intake.yaml into `IntakeLimits`."""
    base = defaults or IntakeLimits()
    top = _mapping(data or {}, "the file", {"receipt"})
    receipt = _mapping(top.get("receipt") or {}, "`receipt`", {"allowance", "late_channels"})
    allowance = _duration(receipt.get("allowance", "72h"), "`receipt.allowance`", base.max_age)
    late: dict[str, tuple[timedelta, str]] = {}
    raw_late = receipt.get("late_channels", None)
    channels = dict(base.late_channels) if raw_late is None else {}
    for name, entry in _mapping(raw_late or {}, "`receipt.late_channels`", None).items():
        where = f"`receipt.late_channels.{str(name)[:40]}`"
        if str(name) not in {c.value for c in Channel}:
            raise IntakePackError(f"{where}: no such channel")
        fields = _mapping(entry, where, {"allowance", "reason"})
        reason = fields.get("reason")
        if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
            raise IntakePackError(f"{where}: say why it may be older (`reason`, a short text)")
        late[str(name)] = (_duration(fields.get("allowance"), where, base.max_age), reason.strip())
    channels.update(late)
    return replace(base, receipt_allowance=allowance, late_channels=channels)


def _mapping(raw: Any, where: str, keys: set[str] | None) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise IntakePackError(f"{where} must be a mapping")
    if keys is not None and (unknown := sorted(str(k) for k in raw if k not in keys)):
        raise IntakePackError(f"{where}: unknown setting {unknown[0][:40]!r}")
    return {str(k): v for k, v in raw.items()}


def _duration(raw: Any, where: str, longest: timedelta) -> timedelta:
    match = _AMOUNT.match(str(raw)) if isinstance(raw, str | int | float) else None
    if match is None:
        raise IntakePackError(f"{where}: use <number><min|h|d> (natural time)")
    span = float(match.group(1)) * _UNIT[match.group(2)]
    if not timedelta(0) < span <= longest:
        raise IntakePackError(f"{where}: must be above 0 and at most {longest.days} days")
    return span
