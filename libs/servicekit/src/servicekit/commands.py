"""Counting MongoDB commands as the server charges for them: per command, not per document."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pymongo import monitoring

from servicekit.metrics import KitMetrics


def _one_id(query: object) -> bool:
    """A filter that names one document by a plain `_id` (not `$in`, not a range)."""
    return isinstance(query, Mapping) and "_id" in query and not isinstance(query["_id"], Mapping)


def addresses_one_document(name: str, command: Mapping[str, Any]) -> bool:
    """Whether a command is a single-document one: what the server charges per command, not
    per document (find by `_id` or limit 1, find-and-modify, one-statement update or delete by
    `_id`). Batch inserts, `$in` reads and multi-statement or multi-document writes are not."""
    if name == "findAndModify":
        return True
    if name == "find":
        return abs(int(command.get("limit") or 0)) == 1 or _one_id(command.get("filter"))
    if name in ("update", "delete"):
        statements = command.get("updates" if name == "update" else "deletes") or []
        if len(statements) != 1:
            return False
        [statement] = statements
        many = statement.get("multi") if name == "update" else statement.get("limit") == 0
        return not many and _one_id(statement.get("q"))
    return False


class CommandMetrics(monitoring.CommandListener):
    """Counts operations by command and collection (a bulk write counts each statement), and
    single-document commands apart; times each round trip; no arguments are kept."""

    _SKIPPED = frozenset({"hello", "ismaster", "isMaster", "ping", "endSessions"})
    _STATEMENTS: ClassVar[dict[str, str]] = {
        "insert": "documents",
        "update": "updates",
        "delete": "deletes",
    }

    def __init__(self, metrics: KitMetrics) -> None:
        self._metrics = metrics

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in self._SKIPPED:
            return
        command = event.command
        target = command.get(event.command_name)
        collection = target if isinstance(target, str) else ""
        statements = command.get(self._STATEMENTS.get(event.command_name, ""))
        labels = (self._metrics.service, event.command_name, collection)
        self._metrics.mongo_commands.labels(*labels).inc(
            len(statements) if isinstance(statements, list) and statements else 1
        )
        if addresses_one_document(event.command_name, command):
            self._metrics.mongo_single.labels(*labels).inc()

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._observe(event.command_name, event.duration_micros)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._observe(event.command_name, event.duration_micros)

    def _observe(self, command: str, micros: int) -> None:
        if command not in self._SKIPPED:
            self._metrics.mongo_seconds.labels(self._metrics.service, command).observe(micros / 1e6)
