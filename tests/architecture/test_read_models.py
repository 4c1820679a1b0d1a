"""No service and no CLI module reads another service's collection by its literal name.

A collection belongs to the service that writes it (`OWNERS`). Another service or the CLI reaches
it through a declared read model in `contracts.read_models` (owner, name, typed document,
version) or the owner's HTTP read endpoint (ADR 0008), never by spelling the name. What counts as
spelling it:

- a name subscripted on a database (`db["cases"]`, `self._db["cases"]`) or passed to
  `get_collection`;
- a name anywhere in a module-level constant of a module that subscripts a database with a
  computed name (`FIELDS = {"cases": …}` read as `db[name]`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from contracts.read_models import READ_MODELS

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "classifier", "sla", "notifier")
OWNERS: dict[str, str] = {
    "complaints": "intake",
    "contacts": "intake",
    "raw_payloads": "intake",
    "intake_keys": "intake",
    "classifications": "classifier",
    "classification_history": "classifier",
    "classification_tally": "classifier",
    "classification_issue_counts": "classifier",
    "corrections": "classifier",
    "incidents": "classifier",
    "cases": "sla",
    "complainants": "sla",
    "contact_access": "sla",
    "deadlines": "sla",
    "deadline_sets": "sla",
    "deadline_slots": "sla",
    "scheduler_state": "sla",
    "census": "sla",
    "held_receipts": "sla",
    "notifications": "notifier",
    "staff": "notifier",
    "notifier_assignments": "notifier",
    "incident_members": "notifier",
}
"""Every MongoDB collection of the pipeline and the service that writes it."""


def _owner_of(path: Path) -> str:
    """The service a source file belongs to, or `cli`."""
    parts = path.relative_to(ROOT).parts
    return parts[1] if parts[0] == "services" else "cli"


def sources() -> list[Path]:
    """Every Python module of the services and the CLI."""
    roots = [*(ROOT / "services" / s / "src" for s in SERVICES), ROOT / "cli" / "src"]
    return sorted(p for root in roots for p in root.rglob("*.py"))


def _names_a_database(node: ast.expr) -> bool:
    """`db`, `self.db`, `self._db`, `database`, `pipeline_db`: what a collection is taken from."""
    name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")
    return name.lower().rstrip("_").endswith(("db", "database"))


def _strings(node: ast.AST) -> Iterator[str]:
    for inner in ast.walk(node):
        if isinstance(inner, ast.Constant) and isinstance(inner.value, str):
            yield inner.value


def collections_named(tree: ast.Module) -> set[str]:
    """The collection names a module spells (see the module docstring for what counts)."""
    named: set[str] = set()
    computed = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and _names_a_database(node.value):
            if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
                named.add(node.slice.value)
            else:
                computed = True
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "get_collection"
            and node.args
        ):
            named.update(_strings(node.args[0]))
    if computed:
        constants = [n for n in tree.body if isinstance(n, ast.Assign | ast.AnnAssign)]
        named.update(s for n in constants for s in _strings(n) if s in OWNERS)
    return named


def readings() -> set[tuple[str, str, str]]:
    """(module, collection, owner of the module) for every collection a module spells."""
    return {
        (str(path.relative_to(ROOT)), name, _owner_of(path))
        for path in sources()
        for name in collections_named(ast.parse(path.read_text(encoding="utf-8")))
    }


def test_every_collection_has_a_declared_owner() -> None:
    unknown = {(module, name) for module, name, _ in readings() if name not in OWNERS}
    assert unknown == set(), "add the collection and the service writing it to OWNERS"


def test_no_module_spells_another_service_s_collection() -> None:
    foreign = {
        (module, name)
        for module, name, owner in readings()
        if name in OWNERS and OWNERS[name] != owner
    }
    assert foreign == set(), "read it through a declared read model (ADR 0008)"


def test_every_read_model_is_declared_by_the_collection_s_owner() -> None:
    declared = {(m.collection, m.owner) for m in READ_MODELS}
    assert declared <= set(OWNERS.items()), "a read model's owner is the collection's writer"
    assert len({m.label for m in READ_MODELS}) == len(READ_MODELS)


def test_the_scan_sees_direct_and_computed_names() -> None:
    direct = ast.parse('async def f(self):\n    return self._db["cases"].find({})\n')
    computed = ast.parse('FIELDS = {"deadlines": {}, "other": 1}\ndef f(db, n):\n    db[n]\n')
    unrelated = ast.parse('NAMES = ["cases"]\ndef f(view):\n    return view["notifications"]\n')
    assert collections_named(direct) == {"cases"}
    assert collections_named(computed) == {"deadlines"}
    assert collections_named(unrelated) == set()
