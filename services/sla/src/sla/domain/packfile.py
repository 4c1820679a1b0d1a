"""Reading policy-pack YAML files into plain mappings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sla.domain.errors import PolicyError


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """Parse one YAML file that must hold a mapping at the top level."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise PolicyError(f"{path} must hold a mapping at the top level")
    return {str(key): value for key, value in data.items()}


def sla_file(*, policy_dir: Path, pack: str) -> Path:
    """Where a pack keeps its clocks: policies/<pack>/sla.yaml."""
    return policy_dir / pack / "sla.yaml"


def calendar_dir(policy_dir: Path) -> Path:
    """Where the shared calendar override files live: policies/calendar/."""
    return policy_dir / "calendar"
