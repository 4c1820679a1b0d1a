"""A lead regrades a case through the case API, on the real stack (issue 16).

The four services run as processes. One complaint is classified and its case opened; a lead posts
a `regraded` action with a new kind, category, severity and flags and a reason. Then: the case
the API shows has the new severity, category and flags and its clocks re-planned (the resolution
clock of the new level moves; the `media` flag puts the media contact on its breach, as stored in
MongoDB); the classifier's stored decision carries the correction; and
`complaints classify export-corrections` prints it as a training line.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from complaints_cli.pipeline import StackConfig
from sla.adapters.packed import unpack_sheet
from tests._builders.case_api import STAFF, Staff, clock, due, until
from tests._builders.one_complaint import one_complaint

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.stack, pytest.mark.e2e]
COMPLAINTS = Path(sys.executable).parent / "complaints"
Json = dict[str, Any]
NEW_FLAGS = {"over_level", "regulator", "media", "vip"}


def _resolution_days(severity: str) -> int:
    """The telecom pack's resolution amount at `severity`, in working days."""
    clocks = yaml.safe_load((ROOT / "policies/telecom/sla.yaml").read_text("utf-8"))["clocks"]
    amount = str(clocks["resolution"][severity])
    assert amount.endswith("wd")
    assert "categories" not in clocks["resolution"]
    return int(amount[:-2])


def _other_category(category: str) -> str:
    """A top category different from `category`'s, with a subcategory."""
    return "network/no_signal" if not category.startswith("network") else "billing/overcharge"


async def regrade_one() -> None:
    async with one_complaint("regrade", STAFF) as run:
        staff = Staff(run.sla_url)
        try:
            await regrade_and_check(staff, run.db, run.config)
        finally:
            await staff.http.aclose()


async def regrade_and_check(staff: Staff, db: Any, config: StackConfig) -> None:
    async def opened() -> Json | None:
        page = (await staff.get("/cases", "lead")).json()
        if len(page["items"]) != 1:
            return None
        view = await staff.case(page["items"][0]["complaint_id"])
        return view if view["clocks"] else None

    before = await until(opened, "the case and its clocks")
    cid = before["complaint_id"]
    new_category = _other_category(before["category"] or "")
    # Telecom resolution: P1 and P3 get 5 working days, P2 and P4 3; regrade to the other length.
    new_severity = "P1" if before["severity"] in {"P2", "P4"} else "P2"
    longer = _resolution_days(new_severity) > _resolution_days(before["severity"])
    resolution_before = due(before, "resolution")

    applied = await staff.act(
        cid,
        "lead",
        "regraded",
        reason="客户说的是已经去了工信部, 不是要去; 记者昨天已经来营业厅采访过",
        regrade={
            "kind": "complaint",
            "category": new_category,
            "severity": new_severity,
            "flags": sorted(NEW_FLAGS),
        },
    )
    assert applied["action"] == "regraded"

    # The case: new severity and category, clocks re-planned on them.
    after = await staff.case(cid)
    assert (after["severity"], after["category"]) == (new_severity, new_category)
    resolution = clock(after, "resolution")
    assert resolution["status"] == "running"
    moved = due(after, "resolution")
    assert moved > resolution_before if longer else moved < resolution_before
    assert [h["action"] for h in after["history"]][-1] == "regraded"
    assert set(before["flags"]) != NEW_FLAGS
    assert set(after["flags"]) == NEW_FLAGS  # the case carries the corrected flags
    stored = await db["cases"].find_one({"_id": cid})
    assert set(stored["flags"]) == NEW_FLAGS
    [breach] = [
        t
        for c in unpack_sheet(stored["clocks"])
        if c["clock"] == "resolution" and c["status"] == "running"
        for t in c["thresholds"]
        if t["percent"] == 100
    ]
    assert "media_contact" in breach["audiences"]  # re-planned on the flags, not only the level

    # The classifier's stored decision carries the correction (it consumes the lifecycle topic).
    async def corrected() -> Json | None:
        doc: Json | None = await db["classifications"].find_one({"_id": cid})
        return doc if doc and doc.get("regraded") else None

    decision = await until(corrected, "the stored decision to be regraded")
    assert decision["severity"] == new_severity
    assert decision["category"] == new_category
    assert decision["category_top"] == new_category.split("/", 1)[0]
    assert set(decision["flags"]) == NEW_FLAGS
    assert decision["regraded"]["role"] == "lead"
    assert decision["regraded"]["actor"] == "lead-e2e"

    # The export: one training line with the corrected label, grade and flags.
    run = await asyncio.to_thread(
        subprocess.run,
        [
            str(COMPLAINTS),
            "classify",
            "export-corrections",
            "--mongo-url",
            config.mongo,
            "--database",
            config.database,
        ],
        capture_output=True,
        check=True,
        timeout=120,
    )
    lines = [ln for ln in run.stdout.decode().splitlines() if ln and not ln.startswith("#")]
    assert len(lines) == 1, lines
    label, severity, flags, _channel, _tier, text = [f.strip() for f in lines[0].split("|", 5)]
    assert (label, severity) == (new_category.split("/", 1)[0], new_severity)
    assert set(flags.split(",")) == NEW_FLAGS
    assert text


@pytest.mark.timeout(600)
def test_a_regrade_through_the_case_api_reaches_case_decision_and_export(
    local_stack: None,
) -> None:
    asyncio.run(regrade_one())
