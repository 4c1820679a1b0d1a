"""Architecture rules checked on the source: topics spelled once, services independent."""

from __future__ import annotations

import ast
from pathlib import Path

from contracts import Topic

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [*ROOT.glob("services/*/src"), ROOT / "libs", ROOT / "cli" / "src"]
SERVICES = ("intake", "classifier", "sla", "notifier")


def python_files() -> list[Path]:
    return [p for src in SOURCES for p in src.rglob("*.py")]


def test_no_topic_name_is_spelled_outside_the_contracts() -> None:
    names = {t.value for t in Topic}
    offenders = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in python_files()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and node.value in names
    ]
    assert offenders == []


def test_services_never_import_each_other() -> None:
    offenders = []
    for service in SERVICES:
        others = set(SERVICES) - {service}
        for path in (ROOT / "services" / service / "src").rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                modules = []
                if isinstance(node, ast.Import):
                    modules = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    modules = [node.module]
                offenders += [
                    f"{path.name} imports {m}" for m in modules if m.split(".")[0] in others
                ]
    assert offenders == []


def test_every_service_has_the_same_files() -> None:
    expected = {
        "__main__.py",
        "settings.py",
        "app.py",
        "handlers.py",
        "ports.py",
        "metrics.py",
        "service.py",
        "domain",
        "adapters",
    }
    for service in SERVICES:
        present = {p.name for p in (ROOT / "services" / service / "src" / service).iterdir()}
        assert expected <= present, f"{service} lacks {expected - present}"
        adapters = {
            p.name for p in (ROOT / "services" / service / "src" / service / "adapters").iterdir()
        }
        # The MongoDB adapter is `mongo.py`, or `mongo_<concept>.py` modules once it grows.
        assert "memory.py" in adapters, service
        assert any(name == "mongo.py" or name.startswith("mongo_") for name in adapters), service


def test_every_subscriber_commits_after_work() -> None:
    source = (ROOT / "libs" / "servicekit" / "src" / "servicekit" / "subscriptions.py").read_text()
    assert "AckPolicy.NACK_ON_ERROR" in source
    assert "AckPolicy.ACK_FIRST" not in source
    for service in SERVICES:
        handlers = (ROOT / "services" / service / "src" / service / "handlers.py").read_text()
        # servicekit.subscriptions.subscribe calls consume for each topic of its table
        assert "consume(" in handlers or "subscribe(" in handlers
        assert "GROUP = " in handlers
        assert "subscriber(" not in handlers, "subscribe through servicekit.subscriptions.consume"
    kit = ROOT / "libs" / "servicekit" / "src" / "servicekit" / "subscriptions.py"
    assert "consume(" in kit.read_text()
