"""`complaints report`: figures from sample documents; the page as headless Chromium draws it."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from complaints_cli.report import (
    ClockFigures,
    ReportData,
    Sources,
    gather,
    summarise,
)
from complaints_cli.report_page import render
from contracts.read_models import CASE_SHEETS, CLASSIFICATIONS, COMPLAINT_RECEIPTS
from servicekit.read_models import ReadModelError

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)

PROBE = """<script>
const out = {};
for (const fig of document.querySelectorAll('figure[data-chart]')) {
  const svg = fig.querySelector('svg');
  const box = svg.getBoundingClientRect();
  out[fig.dataset.chart] = {
    width: box.width,
    height: box.height,
    marks: [...svg.querySelectorAll('.mark')].map(m => {
      const b = m.getBBox();
      return {w: b.width, h: b.height, tip: m.querySelector('title').textContent};
    }),
    labels: [...svg.querySelectorAll('text')].map(t => t.textContent),
  };
}
const pre = document.createElement('pre');
pre.id = 'probe';
pre.textContent = JSON.stringify(out);
document.body.appendChild(pre);
</script>"""


def sample() -> Sources:
    """Three days of traffic on three channels, decisions, cases and deadlines of every kind."""
    complaints: list[dict[str, Any]] = []
    for day, channels in enumerate((["hotline"] * 3 + ["web"], ["web", "app"], ["hotline"])):
        for n, channel in enumerate(channels):
            complaints.append(
                {
                    "_id": f"c{day}{n}",
                    "channel": channel,
                    # 02:00 UTC is 10:00 in Shanghai: the same calendar day in both zones.
                    "received_at": NOW - (3 - day) * DAY - timedelta(hours=10),
                    "duplicate_of": "c00" if (day, n) == (0, 3) else None,
                }
            )
    classifications: list[dict[str, Any]] = [
        {
            "kind": "complaint",
            "category": "billing/unknown_deduction",
            "severity": "P2",
            "flags": ["repeat", "vip"],
            "duplicate_of": None,
        },
        {
            "kind": "complaint",
            "category": "billing/unknown_deduction",
            "severity": "P3",
            "flags": ["repeat"],
            "duplicate_of": None,
        },
        {
            "kind": "complaint",
            "category": "network/broadband_outage",
            "severity": "P1",
            "flags": ["over_level", "media"],
            "duplicate_of": None,
        },
        {
            "kind": "complaint",
            "category": "service/staff_attitude",
            "severity": "P4",
            "flags": [],
            "duplicate_of": None,
        },
        {
            "kind": "complaint",
            "category": "billing/unknown_deduction",
            "severity": "P4",
            "flags": ["repeat"],
            "duplicate_of": "c00",
        },
        {"kind": "enquiry", "category": None, "severity": None, "flags": [], "duplicate_of": None},
    ]
    cases = [
        {"state": "in_progress"},
        {"state": "closed"},
        {"state": "acknowledged"},
        {"state": "resolved"},
    ]
    deadlines: list[dict[str, Any]] = [
        {"clock": "acknowledge", "status": "met", "outcome": "on_time", "fired": []},
        {"clock": "acknowledge", "status": "met", "outcome": "on_time", "fired": [50]},
        {"clock": "acknowledge", "status": "met", "outcome": "late", "fired": [50, 80, 100]},
        {
            "clock": "resolution",
            "status": "running",
            "outcome": "overdue",
            "fired": [50, 80, 100],
            "due_at": NOW - DAY,
        },
        # Past due but the scheduler has not fired the breach yet: overdue all the same.
        {
            "clock": "resolution",
            "status": "running",
            "outcome": "",
            "fired": [50, 80],
            "due_at": NOW - timedelta(minutes=1),
        },
        {
            "clock": "resolution",
            "status": "running",
            "outcome": "",
            "fired": [],
            "due_at": NOW + DAY,
        },
        {"clock": "resolution", "status": "met", "outcome": "on_time", "fired": []},
        {"clock": "dispatch", "status": "cancelled", "outcome": "", "fired": []},
        {"clock": None, "status": "done", "outcome": "overdue", "fired": [100]},  # an upgrade
    ]
    return Sources(complaints, classifications, cases, deadlines)


@pytest.fixture(scope="module")
def data() -> ReportData:
    return summarise(sample(), now=NOW, database="complaints_demo")


def test_volumes_are_counted_per_day_and_channel(data: ReportData) -> None:
    assert data.buckets == ["2026-11-21", "2026-11-22", "2026-11-23"]
    assert data.bucket_unit == "day"
    assert dict(data.volumes) == {"hotline": [3, 0, 1], "web": [1, 1, 0], "app": [0, 1, 0]}
    assert (data.received, data.duplicates) == (7, 1)


def test_clocks_judge_met_late_overdue_and_leave_the_rest_out(data: ReportData) -> None:
    assert list(data.clocks) == [
        ClockFigures("acknowledge", on_time=2, met_late=1),
        ClockFigures("resolution", on_time=1, overdue=2, open_in_time=1),
    ]
    ack, resolution = data.clocks
    assert ack.timely_rate == pytest.approx(2 / 3)
    assert resolution.timely_rate == pytest.approx(1 / 3)
    assert data.timely_rate == pytest.approx(3 / 6)
    assert data.breaches == 3


def test_mixes_count_complaints_only_once(data: ReportData) -> None:
    assert data.complaints == 4  # the enquiry and the duplicate are left out
    assert data.categories[0] == ("billing/unknown_deduction", 2)
    assert dict(data.severities) == {"P1": 1, "P2": 1, "P3": 1, "P4": 1}
    assert (data.repeat, data.over_level) == (2, 1)
    assert (data.open_cases, data.cases) == (2, 4)
    assert data.kinds == {"complaint": 5, "enquiry": 1}


def test_long_spans_are_drawn_per_week() -> None:
    docs = [{"channel": "web", "received_at": NOW - timedelta(days=d)} for d in (0, 1, 100, 200)]
    data = summarise(Sources(complaints=docs), now=NOW)
    assert data.bucket_unit == "week"
    assert all(datetime.fromisoformat(b).weekday() == 0 for b in data.buckets)
    assert sum(data.volumes["web"]) == 4


def test_the_page_is_self_contained(data: ReportData) -> None:
    page = render(data)
    assert "<script" not in page
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", page)
    assert "@import" not in page
    assert "url(" not in page
    assert page.count("<svg") == 6


def test_a_clock_with_only_breaches_shows_zero_not_nothing() -> None:
    deadlines = [{"clock": "dispatch", "status": "running", "fired": [100], "due_at": NOW - DAY}]
    page = render(summarise(Sources(deadlines=deadlines), now=NOW))
    timely = page[page.index('id="timely"') : page.index('id="breaches"')]
    assert "0.0%  (0/1)" in timely
    assert "no data yet" not in timely


def test_long_category_names_are_shortened_in_the_label_column() -> None:
    name = "marketing/unauthorised_change_of_a_very_long_package_name"
    docs = [{"kind": "complaint", "category": name, "severity": "P4", "flags": []}]
    page = render(summarise(Sources(classifications=docs), now=NOW))
    assert f"{name} · complaints" in page  # the tooltip keeps it whole
    assert f">{name}<" not in page


STORED: dict[str, dict[str, Any]] = {
    "complaints": {"_id": "c1", "channel": "sms", "received_at": NOW},
    "classifications": {"_id": "c1", "kind": "complaint"},
    "cases": {"_id": "c1", "state": "classified"},
}
"""One document per collection, as its owner stores it."""


async def test_gather_reads_each_read_model_projected_and_without_a_limit() -> None:
    class Cursor:
        def __init__(self, docs: list[dict[str, Any]]) -> None:
            self.docs = docs

        async def to_list(self, length: int | None) -> list[dict[str, Any]]:
            assert length is None
            return self.docs

    class Collection:
        def __init__(self, name: str) -> None:
            self.name = name

        def find(self, query: Any, projection: Any, **options: Any) -> Cursor:
            asked.append((self.name, projection, options))
            return Cursor([stored[self.name]])

    class Database:
        def get_collection(self, name: str) -> Collection:
            return Collection(name)

    models = {m.collection: m for m in (COMPLAINT_RECEIPTS, CLASSIFICATIONS, CASE_SHEETS)}
    asked: list[tuple[str, Any, dict[str, Any]]] = []
    stored = dict(STORED)
    sources = await gather(Database())  # type: ignore[arg-type]
    assert sources.deadlines == []  # the clock rows come from the case sheets (none here)
    assert [d["_id"] for d in (*sources.complaints, *sources.classifications, *sources.cases)] == [
        "c1"
    ] * 3
    assert {name for name, _, _ in asked} == set(models)
    assert all(projection == models[name].projection() for name, projection, _ in asked)
    assert all("limit" not in options for _, _, options in asked)
    # A field renamed by its owner is an error naming the read model, not an empty chart.
    stored["cases"] = {"_id": "c1", "status": "classified"}
    with pytest.raises(ReadModelError, match=r"sla\.case_sheets\.v2.*'c1'.*state"):
        await gather(Database())  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's chromium, installed by the project's own script when missing (never skipped)."""
    result = subprocess.run(
        [sys.executable, str(REPO / "deploy" / "local" / "tools.py"), "install", "chromium"],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    if result.returncode != 0:
        pytest.fail(f"chromium could not be installed: {result.stderr[-2000:]}")
    return result.stdout.strip()


def drawn(chromium: str, page: str, tmp_path: Path) -> dict[str, Any]:
    """What Chromium laid out for every chart: marks with their boxes, and texts."""
    probed = tmp_path / "report.html"
    probed.write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    result = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            probed.as_uri(),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    found = re.search(r'<pre id="probe">(.*?)</pre>', result.stdout, re.DOTALL)
    assert found, f"no probe output; chromium said: {result.stderr[-2000:]}"
    charts: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return charts


def test_chromium_draws_every_chart(chromium: str, data: ReportData, tmp_path: Path) -> None:
    charts = drawn(chromium, render(data), tmp_path)
    assert set(charts) == {"volumes", "timely", "breaches", "categories", "rates", "severity"}
    for key, chart in charts.items():
        assert chart["width"] > 0, key
        assert chart["height"] > 0, key
        assert chart["marks"], f"{key}: nothing drawn"
        assert all(m["w"] > 0 and m["h"] > 0 for m in chart["marks"]), key
    # One stacked column part per non-zero (day, channel) cell: 2 + 2 + 1.
    assert len(charts["volumes"]["marks"]) == 5
    assert "2026-11-21 · hotline: 3" in {m["tip"] for m in charts["volumes"]["marks"]}
    assert {"acknowledge", "resolution", "66.7%  (2/3)"} <= set(charts["timely"]["labels"])
    assert "billing/unknown_deduction" in charts["categories"]["labels"]
    assert {"repeat", "over-level", "2  (50.0%)"} <= set(charts["rates"]["labels"])
    assert {"P1", "P2", "P3", "P4"} <= set(charts["severity"]["labels"])
    # Bars are drawn to scale: two on-time of three is twice as wide as one of three.
    ack, resolution = (m["w"] for m in charts["timely"]["marks"])
    assert ack == pytest.approx(2 * resolution, rel=0.01)


def test_an_empty_database_still_renders(chromium: str, tmp_path: Path) -> None:
    charts = drawn(chromium, render(summarise(Sources(), now=NOW)), tmp_path)
    assert all(not chart["marks"] for chart in charts.values())
    assert all(chart["labels"] == ["no data yet"] for chart in charts.values())
