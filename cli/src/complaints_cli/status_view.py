"""What `complaints status` shows, and how: the figures as data and as aligned text (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from contracts import Severity

Document = dict[str, Any]


@dataclass(frozen=True)
class GroupLag:
    """How far one consumer group is behind on one topic."""

    group: str
    topic: str
    lag: int
    partitions: int


@dataclass(frozen=True)
class OpenDeadlines:
    """Open clock deadlines of one severity, and how many of them are past due."""

    severity: str
    open: int
    overdue: int


@dataclass(frozen=True)
class Health:
    """A service's answers: True / False per endpoint, None when nothing answered."""

    service: str
    port: int
    live: bool | None
    ready: bool | None


@dataclass
class Status:
    """Everything `complaints status` prints; an error text replaces a part it could not read."""

    database: str
    stages: Sequence[tuple[str, int]] = ()
    notifications: Mapping[str, int] = field(default_factory=dict)
    deadlines: Sequence[OpenDeadlines] = ()
    mongo_error: str | None = None
    lags: Sequence[GroupLag] = ()
    kafka_error: str | None = None
    health: Sequence[Health] = ()


# ---------------------------------------------------------------- pure parts


def open_deadlines(
    open_rows: Sequence[Document], overdue_rows: Sequence[Document]
) -> list[OpenDeadlines]:
    """Open and overdue clock deadlines per severity, from `{"_id": severity, "n": count}` rows."""
    opened = {str(r["_id"]): int(r["n"]) for r in open_rows}
    overdue = {str(r["_id"]): int(r["n"]) for r in overdue_rows}
    levels = [level.value for level in Severity]
    levels += sorted((opened.keys() | overdue.keys()) - set(levels))
    return [OpenDeadlines(level, opened.get(level, 0), overdue.get(level, 0)) for level in levels]


def group_lags(
    committed: Mapping[str, Mapping[tuple[str, int], int]],
    ends: Mapping[tuple[str, int], int],
) -> list[GroupLag]:
    """Lag per (group, topic): the partitions' ends minus the group's committed offsets."""
    totals: dict[tuple[str, str], list[int]] = {}
    for group, offsets in committed.items():
        for (topic, partition), offset in offsets.items():
            end = ends.get((topic, partition))
            if end is None:
                continue
            tally = totals.setdefault((group, topic), [0, 0])
            tally[0] += max(0, end - offset)
            tally[1] += 1
    return [
        GroupLag(group, topic, lag, partitions)
        for (group, topic), (lag, partitions) in sorted(totals.items())
    ]


def _mark(value: bool | None) -> str:
    return {True: "ok", False: "FAIL", None: "down"}[value]


def _section(title: str, error: str | None, lines: Sequence[str]) -> list[str]:
    if error:
        return [title, f"  unavailable: {error}", ""]
    return [title, *(lines or ["  (none)"]), ""]


def render(status: Status) -> str:
    """The status as aligned text sections."""
    width = max((len(name) for name, _ in status.stages), default=0)
    stage_lines = [f"  {name:<{width}}  {count:>10,}" for name, count in status.stages]
    if status.notifications:
        parts = ", ".join(f"{n:,} {name}" for name, n in sorted(status.notifications.items()))
        stage_lines.append(f"  {'':<{width}}  ({parts})")
    deadline_lines = [f"  {'severity':<9}{'open':>10}{'overdue':>10}"] + [
        f"  {d.severity:<9}{d.open:>10,}{d.overdue:>10,}" for d in status.deadlines
    ]
    lag_lines = [f"  {'group':<14}{'topic':<28}{'partitions':>11}{'lag':>10}"] + [
        f"  {g.group:<14}{g.topic:<28}{g.partitions:>11}{g.lag:>10,}" for g in status.lags
    ]
    health_lines = [
        f"  {h.service:<12}:{h.port:<6} live {_mark(h.live):<5} ready {_mark(h.ready)}"
        for h in status.health
    ]
    return "\n".join(
        [
            f"Pipeline status · database {status.database}",
            "",
            *_section("Stages", status.mongo_error, stage_lines),
            *_section("Open deadlines by severity", status.mongo_error, deadline_lines),
            *_section("Consumer lag", status.kafka_error, lag_lines),
            *_section("Services", None, health_lines),
        ]
    ).rstrip()
