"""Reading policy-pack YAML files into plain mappings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from sla.domain.errors import PolicyError

MAX_FILE_BYTES = 1024 * 1024
"""A pack file larger than this is refused unread (the telecom sla.yaml is ~3 KiB)."""
MAX_VALUES = 100_000
"""Values a pack file may hold once YAML aliases are expanded (refuses alias bombs)."""


def too_many_values(root: object, limit: int = MAX_VALUES) -> bool:
    """Whether `root`, aliases expanded, holds more than `limit` values (stops counting there,
    so a billion-laughs document or a self-referencing alias is cheap to refuse)."""
    stack, seen = [root], 0
    while stack:
        node = stack.pop()
        seen += 1
        if seen > limit:
            return True
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """Parse one YAML file that must hold a mapping at the top level."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise PolicyError(f"{path} is larger than {MAX_FILE_BYTES} bytes")
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise PolicyError(f"{path} is not UTF-8 text (byte {exc.start})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path} is not valid YAML: {exc}") from exc
    except RecursionError:
        raise PolicyError(f"{path} is not valid YAML: nested too deep") from None
    if too_many_values(data):
        raise PolicyError(f"{path} holds more than {MAX_VALUES} values once aliases are expanded")
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
