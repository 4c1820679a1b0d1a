"""Reading one policy-pack YAML file safely: size-capped, UTF-8, no alias bombs, no objects."""

from __future__ import annotations

from pathlib import Path

import yaml

MAX_FILE_BYTES = 1024 * 1024
"""A pack file larger than this is refused unread (the shipped files are 3–17 KiB)."""
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


def read_yaml(path: Path, error: type[Exception]) -> object:
    """The parsed file (plain YAML types only); any problem raises `error("<path>: <problem>")`."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise error(f"{path}: larger than {MAX_FILE_BYTES} bytes")
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {exc}") from exc
    except RecursionError:
        raise error(f"{path}: not valid YAML: nested too deep") from None
    if too_many_values(data):
        raise error(f"{path}: more than {MAX_VALUES} values once aliases are expanded")
    return data
