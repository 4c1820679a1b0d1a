"""`complaints sla simulate` (`python -m sla.tools.simulate`) without a server: stored documents →
facts, replay, rendering; and the CLI handing its command line to the tool."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from complaints_cli import sla_parser
from complaints_cli.main import parser
from complaints_cli.pipeline import StackConfig
from contracts import Channel, ClockName, ClockStatus, FlagName, Severity
from sla.domain.whatif import PauseWindow
from sla.domain.whatif_report import WhatIfReport
from sla.tools import simulate, whatif_replay
from sla.tools.simulate import SimulateOptions, load_rules
from sla.tools.whatif_render import Replay, as_json, render
from sla.tools.whatif_replay import case_facts, replay, sheet_entry, stored_clocks, stored_upgrades

POLICIES = Path(__file__).resolve().parents[2] / "policies"
SH = ZoneInfo("Asia/Shanghai")
C = ClockName
NOW = datetime(2026, 11, 30, 4, tzinfo=UTC)


def naive_utc(m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    """How a client without tz_aware hands back a stored time: naive, in UTC."""
    return datetime(2026, m, d, hh, mm)  # noqa: DTZ001 - stored times are naive UTC


def case_doc(cid: str = "c-1", **fields: Any) -> dict[str, Any]:
    """A P4 hotline complaint received Wed 30 Sep 10:00 Shanghai (02:00 UTC)."""
    return {
        "_id": cid,
        "state": "resolved",
        "severity_at_receipt": "P4",
        "severity": "P2",
        "channel": "hotline",
        "flags": ["media"],
        "received_at": naive_utc(9, 30, 2),
        "referral_due_at": None,
        "pauses": [],
        "resolved_at": None,
        "closed_at": None,
        **fields,
    }


def entry_doc(clock: str | None, status: str, **fields: Any) -> dict[str, Any]:
    """One stored clock-sheet entry (first occurrence), as the `cases` document holds it."""
    return {
        "key": fields.pop("key", f"{clock}:1"),
        "clock": clock,
        "occurrence": fields.pop("occurrence", 1),
        "status": status,
        "due_at": fields.pop("due_at", naive_utc(10, 10, 10)),
        "stopped_at": None,
        "passed": [],
        **fields,
    }


def sheet_doc(cid: str, *entries: dict[str, Any]) -> dict[str, Any]:
    """A case's clock sheet as the read model `CASE_SHEETS` streams it."""
    return {"_id": cid, "state": "resolved", "clocks": list(entries)}


async def stream(docs: Iterable[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    for doc in docs:
        yield doc


def short_pack(tmp_path: Path) -> Path:
    """The telecom pack with a 2 wd resolution clock for P4, in its own directory."""
    data = yaml.safe_load((POLICIES / "telecom" / "sla.yaml").read_text(encoding="utf-8"))
    data["version"] = "2026.12.0-trial"
    data["clocks"]["resolution"]["P4"] = "2wd"
    (tmp_path / "short").mkdir()
    (tmp_path / "short" / "sla.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return tmp_path / "short"


def report(tmp_path: Path) -> WhatIfReport:
    overrides = POLICIES / "calendar"
    return WhatIfReport(
        baseline=load_rules("telecom", policy_dir=POLICIES, overrides=overrides),
        candidate=load_rules(str(short_pack(tmp_path)), policy_dir=POLICIES, overrides=overrides),
        now=NOW,
    )


def test_case_document_becomes_facts_in_utc() -> None:
    stored = [sheet_entry(entry_doc("resolution", "met", stopped_at=naive_utc(10, 10, 3)))]
    doc = case_doc(
        pauses=[{"paused_at": naive_utc(10, 9, 2), "credited_until": naive_utc(10, 9, 7)}],
        resolved_at=naive_utc(10, 20, 1),
        closed_at=naive_utc(10, 21, 1),
        paused_at=naive_utc(10, 22, 1),
    )
    facts = case_facts(doc, stored)
    assert facts is not None
    assert facts.received_at == datetime(2026, 9, 30, 10, tzinfo=SH)
    assert facts.received_at.tzinfo is not None
    assert facts.severity is Severity.P4  # at receipt, not the upgraded current one
    assert facts.channel is Channel.HOTLINE
    assert facts.flags == (FlagName.MEDIA,)
    assert facts.pauses == (
        PauseWindow(datetime(2026, 10, 9, 2, tzinfo=UTC), datetime(2026, 10, 9, 7, tzinfo=UTC)),
    )
    assert facts.paused_since == datetime(2026, 10, 22, 1, tzinfo=UTC)
    # Unresolved until the first resolution (the clock's stop), not the latest one.
    assert facts.unresolved_until == datetime(2026, 10, 10, 3, tzinfo=UTC)


def test_case_without_receipt_has_no_facts_and_bad_values_are_errors() -> None:
    assert case_facts(case_doc(received_at=None)) is None
    with pytest.raises(ValueError, match="fax machine"):
        case_facts(case_doc(channel="fax machine"))
    facts = case_facts(case_doc(severity_at_receipt=None, resolved_at=naive_utc(10, 1)))
    assert facts is not None
    assert facts.severity is Severity.P2  # older documents: the only severity there is
    assert facts.unresolved_until == datetime(2026, 10, 1, tzinfo=UTC)


def test_sheet_entries_become_the_replayed_clocks() -> None:
    stop = naive_utc(10, 9, 3)
    sheet = [
        sheet_entry(doc)
        for doc in (
            entry_doc("resolution", "met", stopped_at=stop),
            entry_doc("dispatch", "cancelled", stopped_at=stop),
            entry_doc("acknowledge", "running"),
            entry_doc("first_contact", "running", pause_base={"due_at": naive_utc(10, 10)}),
            entry_doc("preliminary_reply", "met"),  # stop time missing: unknowable
            entry_doc("progress_update", "running"),  # left out of the replay
            entry_doc("regulator_reply", "breached", stopped_at=stop),  # neither met nor running
            entry_doc(None, "running", key="upgrade:P2", due_at=naive_utc(10, 7, 2)),
        )
    ]
    due = datetime(2026, 10, 10, 10, tzinfo=UTC)
    at_stop = datetime(2026, 10, 9, 3, tzinfo=UTC)
    clocks = stored_clocks(sheet)
    assert set(clocks) == {C.RESOLUTION, C.DISPATCH, C.ACKNOWLEDGE, C.FIRST_CONTACT}
    assert (clocks[C.RESOLUTION].status, clocks[C.RESOLUTION].stopped_at) == (
        ClockStatus.MET,
        at_stop,
    )
    assert clocks[C.DISPATCH].status is ClockStatus.CANCELLED
    assert clocks[C.ACKNOWLEDGE].due_at == due  # naive stored times read as UTC
    assert clocks[C.FIRST_CONTACT].pause_base is not None
    assert stored_upgrades(sheet) == {Severity.P2: datetime(2026, 10, 7, 2, tzinfo=UTC)}


async def test_replay_streams_cases_and_counts_what_it_cannot_use(tmp_path: Path) -> None:
    on_time = naive_utc(10, 10, 3)  # Sat 10 Oct 11:00 Shanghai: in time for 3 wd, late for 2 wd
    deadlines = [
        sheet_doc("c-1", entry_doc("resolution", "met", stopped_at=on_time)),
        sheet_doc(
            "c-2",
            entry_doc("resolution", "met", stopped_at=naive_utc(10, 8, 3)),
            entry_doc("dispatch", "nonsense"),
        ),
    ]
    cases = [
        case_doc("c-1"),
        case_doc("c-2"),
        case_doc("c-3", received_at=None),
        case_doc("c-4", severity_at_receipt="P9"),
        case_doc("c-5", received_at=naive_utc(12, 1)),  # after `now`: not there yet
    ]
    messages: list[str] = []
    run = await replay(
        stream(cases), stream(deadlines), report=report(tmp_path), progress=messages.append
    )
    assert (run.deadlines_read, run.unreadable_deadlines) == (3, 1)
    assert (run.without_clocks, run.unreadable_cases, run.received_later) == (1, 1, 1)
    assert run.report.cases == 2
    assert run.report.changed == 1
    assert run.report.examples == ["c-1"]
    tally = run.report.clocks[C.RESOLUTION]
    assert (tally.breaches.baseline, tally.breaches.candidate) == (0, 1)
    assert tally.timely_rate == (1.0, 0.5)
    assert messages == ["3 stored deadlines read"]


async def test_progress_every_n_cases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(whatif_replay, "PROGRESS_EVERY", 2)
    messages: list[str] = []
    cases = [case_doc(f"c-{n}") for n in range(5)]
    await replay(stream(cases), stream([]), report=report(tmp_path), progress=messages.append)
    assert messages[1:] == ["2 complaints replayed", "4 complaints replayed"]


async def test_rendering_names_versions_counts_and_examples(tmp_path: Path) -> None:
    deadlines = [sheet_doc("c-1", entry_doc("resolution", "met", stopped_at=naive_utc(10, 10, 3)))]
    run = await replay(stream([case_doc("c-1")]), stream(deadlines), report=report(tmp_path))
    text = render(run)
    assert "telecom 2026.12.2 · calendar chinese-calendar" in text
    assert "working hours 09:00-18:00" in text
    assert "telecom 2026.12.0-trial" not in text  # the candidate is named after its directory
    assert "short 2026.12.0-trial · calendar (same)" in text
    assert "1 complaints replayed; 0 without clocks, 0 unreadable, 0 received after" in text
    assert "1 would change" in text
    row = next(line for line in text.splitlines() if line.startswith("resolution"))
    judged, breaches, new_gone, escalations, rate = (
        "1 → 1",
        "0 → 1",
        "1 0",
        "0 → 0",
        "100.0% → 0.0%",
    )
    assert row.split() == f"resolution {judged} {breaches} {new_gone} {escalations} {rate}".split()
    assert "resolution: c-1" in text
    assert "left out: progress_update" in text
    data = json.loads(json.dumps(as_json(run)))
    assert data["clocks"]["resolution"]["breaches"] == {"baseline": 0, "candidate": 1}
    assert data["clocks"]["resolution"]["timely_rate"] == {"baseline": 1.0, "candidate": 0.0}
    assert data["candidate"]["policy_version"] == "2026.12.0-trial"
    assert data["baseline"]["working_hours"] == ["09:00-18:00"]
    assert data["complaints"] == {
        "replayed": 1,
        "changed": 1,
        "without_clocks": 0,
        "unreadable": 0,
        "received_later": 0,
    }
    assert data["now"] == NOW.isoformat()


def test_command_line_reaches_the_replay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: dict[str, Any] = {}

    async def fake_store(
        *, mongo_url: str, database: str, report: WhatIfReport, progress: Any
    ) -> Replay:
        seen.update(mongo_url=mongo_url, database=database, now=report.now)
        return await replay(stream([case_doc()]), stream([]), report=report, progress=progress)

    monkeypatch.setattr(simulate, "replay_store", fake_store)
    monkeypatch.setenv(simulate.MONGO_URL, "mongodb://127.0.0.1:1")
    argv = ["--policy", str(short_pack(tmp_path)), "--policy-dir", str(POLICIES)]
    argv += ["--database", "complaints_x", "--now", "2026-11-30T12:00", "--json"]
    assert simulate.main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["complaints"]["replayed"] == 1
    assert seen == {
        "mongo_url": "mongodb://127.0.0.1:1",
        "database": "complaints_x",
        "now": datetime(2026, 11, 30, 12, tzinfo=SH),
    }


def _handed_over(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> dict[str, Any]:
    """What the CLI hands the SLA's tool for `argv`: the command line and the environment."""
    handed: dict[str, Any] = {}

    def call(command: list[str], env: dict[str, str] | None = None) -> int:
        handed.update(command=command, env=env)
        return 0

    monkeypatch.setattr(sla_parser.subprocess, "call", call)
    args = parser().parse_args(argv)
    assert args.func(args) == 0
    return handed


def test_the_cli_hands_its_command_line_to_the_sla_tool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pack = str(short_pack(tmp_path))
    argv = ["sla", "simulate", "--policy", pack, "--database", "complaints_x"]
    argv += ["--mongo-url", "mongodb://127.0.0.1:1", "--now", "2026-11-30T12:00", "--json"]
    handed = _handed_over(monkeypatch, argv)
    assert handed["command"][1:3] == ["-m", "sla.tools.simulate"]
    tail = handed["command"][3:]
    assert tail[tail.index("--policy") + 1] == pack
    assert tail[tail.index("--database") + 1] == "complaints_x"
    assert tail[tail.index("--now") + 1] == "2026-11-30T12:00"
    assert tail[tail.index("--policy-dir") + 1] == str(POLICIES)
    assert "--json" in tail
    assert "--calendar-dir" not in tail
    # The URL (it may hold a password) travels in the environment, never on the command line.
    assert handed["env"][simulate.MONGO_URL] == "mongodb://127.0.0.1:1"
    assert not any("mongodb://" in part for part in handed["command"])


def test_defaults_follow_the_other_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    args = parser().parse_args(["sla", "simulate", "--policy", "property"])
    assert (args.baseline, args.policy_dir, args.calendar_dir) == ("telecom", POLICIES, None)
    assert (args.mongo_url, args.database, args.now, args.json) == (None, None, None, False)
    handed = _handed_over(monkeypatch, ["sla", "simulate", "--policy", "property"])
    tail = handed["command"][3:]
    assert tail[tail.index("--database") + 1] == "complaints_demo"
    stack = StackConfig(database="complaints_demo")  # the database every command defaults to
    assert handed["env"][simulate.MONGO_URL] == stack.mongo
    assert "--json" not in tail


def test_the_tool_refuses_to_run_without_a_database_url(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(simulate.MONGO_URL, raising=False)
    argv = ["--policy", "telecom", "--policy-dir", str(POLICIES), "--database", "x"]
    assert simulate.main(argv) == 2
    assert f"set {simulate.MONGO_URL}" in capsys.readouterr().err


def test_a_bad_pack_through_the_real_process_is_one_line_and_exit_2(
    capfd: pytest.CaptureFixture[str],
) -> None:
    args = parser().parse_args(
        ["sla", "simulate", "--policy", "no-such-pack", "--mongo-url", "mongodb://127.0.0.1:1"]
    )
    assert args.func(args) == 2
    err = capfd.readouterr().err
    assert err.startswith("complaints sla simulate: ")
    assert "cannot read" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("policy", "now", "message"),
    [
        ("no-such-pack", None, "cannot read"),
        ("telecom", "yesterday", "Invalid isoformat"),
        ("telecom", "calendar", "is not a directory"),
    ],
)
def test_bad_input_is_a_clear_error_before_any_database_access(
    policy: str, now: str | None, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = POLICIES / "no-such-calendar" if now == "calendar" else None
    options = SimulateOptions(
        policy=policy,
        policy_dir=POLICIES,
        database="complaints_demo",
        now=None if missing else now,
        calendar_dir=missing,
    )
    assert simulate.simulate_command(options, mongo_url="mongodb://127.0.0.1:1") == 2  # unread
    assert message in capsys.readouterr().err


def test_calendar_dir_changes_only_the_candidate(tmp_path: Path) -> None:
    (tmp_path / "cal").mkdir()
    (tmp_path / "cal" / "cn-2026.yaml").write_text(
        "year: 2026\nversion: trial\nholidays: {}\nworkdays: {}\n", encoding="utf-8"
    )
    rules = load_rules("telecom", policy_dir=POLICIES, overrides=tmp_path / "cal")
    assert "cn-2026 override vtrial" in rules.calendar.version
    assert "cn-2027" not in rules.calendar.version
    received = datetime(2026, 9, 30, 10, tzinfo=SH)
    # Without the National Day holidays, 3 wd after Wed 30 Sep are Thu 1, Fri 2 and Mon 5 Oct.
    assert rules.calendar.add_working_days(received, 3) == datetime(2026, 10, 5, 18, tzinfo=SH)
