"""How a what-if replay (`python -m sla.tools.simulate`) is shown: a table, or JSON for tools."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sla.domain import BusinessCalendar
from sla.domain.whatif import LEFT_OUT, Rules
from sla.domain.whatif_report import ClockTally, Pair, WhatIfReport


@dataclass
class Replay:
    """A finished replay: the comparison and what could not be replayed."""

    report: WhatIfReport
    deadlines_read: int = 0
    unreadable_deadlines: int = 0
    without_clocks: int = 0
    unreadable_cases: int = 0
    received_later: int = 0  # after the time the replay judges as of


def pct(rate: float | None) -> str:
    """A rate as a percentage with one decimal, or an em dash when unknown."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _pair(pair: Pair) -> str:
    return f"{pair.baseline:,} → {pair.candidate:,}"


def _hours(calendar: BusinessCalendar) -> list[str]:
    return [f"{start:%H:%M}-{end:%H:%M}" for start, end in calendar.working_hours]


def _calendar_label(calendar: BusinessCalendar) -> str:
    return f"{calendar.version}; working hours {', '.join(_hours(calendar))}"


def _side(rules: Rules) -> dict[str, Any]:
    return {
        "policy": rules.policy.name,
        "policy_version": rules.policy.version,
        "calendar_version": rules.calendar.version,
        "working_hours": _hours(rules.calendar),
        "fallback_years": sorted(rules.calendar.fallback_years),
    }


def _both(pair: Pair) -> dict[str, int]:
    return {"baseline": pair.baseline, "candidate": pair.candidate}


def _clock_json(tally: ClockTally) -> dict[str, Any]:
    base_rate, cand_rate = tally.timely_rate
    return {
        "judged": _both(tally.judged),
        "not_judged": _both(tally.not_judged),
        "breaches": _both(tally.breaches),
        "newly_breached": tally.newly_breached,
        "no_longer_breached": tally.no_longer_breached,
        "escalations": _both(tally.escalations),
        "timely_rate": {"baseline": base_rate, "candidate": cand_rate},
        "examples": list(tally.examples),
    }


def as_json(run: Replay) -> dict[str, Any]:
    """The replay as a JSON-ready mapping."""
    report = run.report
    return {
        "now": report.now.isoformat(),
        "baseline": _side(report.baseline),
        "candidate": _side(report.candidate),
        "complaints": {
            "replayed": report.cases,
            "changed": report.changed,
            "without_clocks": run.without_clocks,
            "unreadable": run.unreadable_cases,
            "received_later": run.received_later,
        },
        "deadlines": {"read": run.deadlines_read, "unreadable": run.unreadable_deadlines},
        "clocks": {clock.value: _clock_json(t) for clock, t in sorted(report.clocks.items())},
        "upgrades": {
            target.value: {
                "reached": _both(t.reached),
                "newly": t.newly,
                "no_longer": t.no_longer,
            }
            for target, t in sorted(report.upgrades.items())
        },
        "stored_due_differs": {
            "deadlines": report.drifted_clocks,
            "complaints": report.drifted_cases,
        },
        "examples": list(report.examples),
        "left_out": {clock.value: why for clock, why in LEFT_OUT.items()},
    }


def _header(run: Replay) -> list[str]:
    report = run.report
    base, cand = report.baseline, report.candidate
    zone = ZoneInfo(base.calendar.timezone)
    base_cal, cand_cal = _calendar_label(base.calendar), _calendar_label(cand.calendar)
    return [
        f"SLA what-if as of {report.now.astimezone(zone):%Y-%m-%d %H:%M %z}",
        f"  baseline   {base.policy.name} {base.policy.version} · calendar {base_cal}",
        f"  candidate  {cand.policy.name} {cand.policy.version}"
        f" · calendar {'(same)' if cand_cal == base_cal else cand_cal}",
        f"  {report.cases:,} complaints replayed; {run.without_clocks:,} without clocks,"
        f" {run.unreadable_cases:,} unreadable, {run.received_later:,} received after that",
        f"  {report.changed:,} would change (a breach, an escalation or an upgrade)",
        "",
    ]


def _clock_table(report: WhatIfReport) -> list[str]:
    lines = [
        f"{'clock':<18}{'judged':>16}{'breaches':>16}{'new':>7}{'gone':>7}"
        f"{'escalations':>16}{'timely rate':>20}"
    ]
    for clock, t in sorted(report.clocks.items()):
        rates = " → ".join(pct(rate) for rate in t.timely_rate)
        lines.append(
            f"{clock.value:<18}{_pair(t.judged):>16}{_pair(t.breaches):>16}"
            f"{t.newly_breached:>7,}{t.no_longer_breached:>7,}{_pair(t.escalations):>16}{rates:>20}"
        )
    for target, u in sorted(report.upgrades.items()):
        lines.append(
            f"{'upgrade to ' + target.value:<18}{'':>16}{_pair(u.reached):>16}"
            f"{u.newly:>7,}{u.no_longer:>7,}"
        )
    return lines


def _notes(run: Replay) -> list[str]:
    report = run.report
    lines = [
        "",
        "breaches: baseline → candidate; new / gone: breached only under the candidate / only",
        "under the baseline; timely rate: met on time among the clocks met or breached",
        f"stored due times that differ from the recomputed baseline: {report.drifted_clocks:,}"
        f" on {report.drifted_cases:,} complaints",
        "  (made under an older policy or calendar version, or extended by approval)",
    ]
    unknown = [
        f"  {clock.value:<18}{_pair(t.not_judged)}"
        for clock, t in sorted(report.clocks.items())
        if t.not_judged.baseline or t.not_judged.candidate
    ]
    if unknown:
        lines += ["not judged (no stored stop time, or in a running pause):", *unknown]
    if report.examples:
        lines.append(f"complaints that change (first {len(report.examples)}):")
        lines.append(f"  {', '.join(report.examples)}")
        for clock, t in sorted(report.clocks.items()):
            if t.examples:
                lines.append(f"  {clock.value}: {', '.join(t.examples)}")
    for label, rules in (("baseline", report.baseline), ("candidate", report.candidate)):
        if rules.calendar.fallback_years:
            years = ", ".join(map(str, sorted(rules.calendar.fallback_years)))
            lines.append(f"{label} calendar has no holiday data for {years}: weekends only")
    lines += [f"left out: {clock.value} — {why}" for clock, why in LEFT_OUT.items()]
    return lines


def render(run: Replay) -> str:
    """The replay as a readable table."""
    return "\n".join([*_header(run), *_clock_table(run.report), *_notes(run)])
