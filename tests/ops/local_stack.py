"""The local stack's entry point (deploy/local/stack.py) as a module: a script, not on sys.path."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]
STACK_SCRIPT = REPO / "deploy" / "local" / "stack.py"


def load_stack() -> ModuleType:
    """Import deploy/local/stack.py once (registered under `complaints_local_stack`)."""
    name = "complaints_local_stack"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, STACK_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def require_promtool() -> str:
    """Debian's promtool, installed through the stack script if missing; fails (never skips)."""
    stack = load_stack()
    if stack.promtool() is None:
        stack.install_prometheus()
    path = stack.promtool()
    assert path is not None, (
        "promtool is missing and could not be installed (needs root or password-less sudo): "
        "apt-get install prometheus"
    )
    return str(path)
