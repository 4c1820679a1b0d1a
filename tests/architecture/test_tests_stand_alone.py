"""Tests stand alone: no test module imports another one (or a conftest).

Shared builders live in `tests/_builders/` (or a helper module that is not a test) and fixtures in
`conftest.py` files. `KNOWN` (folders allowed to import test modules) is empty since issue 19: the
test fails for any test module that imports another.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
KNOWN: frozenset[str] = frozenset()
"""Folders whose modules may still import test modules: none."""


def _is_test_module(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return module.startswith("tests.") and (last.startswith("test_") or last == "conftest")


def imported_tests(path: Path) -> list[str]:
    """The test modules (and conftests) `path` imports."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            found += [name for name in names if _is_test_module(name)]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if _is_test_module(a.name)]
    return found


def offenders() -> dict[str, list[str]]:
    """Test-folder path → the test modules it imports, for every module that imports one."""
    found = {str(p.relative_to(ROOT)): imported_tests(p) for p in sorted(TESTS.rglob("*.py"))}
    return {path: modules for path, modules in found.items() if modules}


def test_no_test_module_imports_another() -> None:
    found = offenders()
    new = {path: modules for path, modules in found.items() if str(Path(path).parent) not in KNOWN}
    assert new == {}, "share it through tests/_builders or a conftest fixture"
    cleared = {folder for folder in KNOWN if not any(p.startswith(folder + "/") for p in found)}
    assert cleared == set(), "these folders stand alone now: take them off KNOWN"


def test_the_walk_sees_both_import_forms() -> None:
    assert _is_test_module("tests.sla.test_handlers")
    assert _is_test_module("tests.cli.conftest")
    assert not _is_test_module("tests._builders.sla")
    assert not _is_test_module("tests.notifier.rig")
