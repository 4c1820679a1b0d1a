"""Reading policy-pack YAML files into plain mappings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from servicekit.packfile import read_yaml
from sla.domain.errors import PolicyError


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """Parse one YAML file that must hold a mapping at the top level."""
    data = read_yaml(path, PolicyError)
    if not isinstance(data, dict):
        raise PolicyError(f"{path} must hold a mapping at the top level")
    return {str(key): value for key, value in data.items()}


@contextmanager
def naming(path: Path) -> Iterator[None]:
    """Any error raised while reading `path`'s content becomes a `PolicyError` naming the file."""
    try:
        yield
    except (PolicyError, ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        message = str(exc) if not isinstance(exc, KeyError) else f"missing key {exc}"
        if isinstance(exc, PolicyError) and str(path) in message:
            raise
        raise PolicyError(f"{path}: {message}") from exc


def sla_file(*, policy_dir: Path, pack: str) -> Path:
    """Where a pack keeps its clocks: policies/<pack>/sla.yaml."""
    return policy_dir / pack / "sla.yaml"


def calendar_dir(policy_dir: Path) -> Path:
    """Where the shared calendar override files live: policies/calendar/."""
    return policy_dir / "calendar"
