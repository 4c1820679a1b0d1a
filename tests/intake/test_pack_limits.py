"""The receipt allowance is a pack setting (policies/<pack>/intake.yaml), validated at load and
enforced on HTTP with a clear 4xx reason (issue 21)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from intake.adapters.memory import InMemoryComplaintStore
from intake.app import Ports, create_app
from intake.domain.results import LATE_CHANNELS, IntakeLimits
from intake.pack import IntakePackError, load_limits
from intake.settings import IntakeSettings
from servicekit.clock import FakeClock
from tests._builders.intake_http import NOW

POLICIES = Path(__file__).resolve().parents[2] / "policies"


def pack(tmp_path: Path, text: str) -> Path:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "intake.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_the_shipped_pack_says_what_the_defaults_say() -> None:
    shipped = load_limits(policy_dir=POLICIES, pack="telecom")
    assert shipped.receipt_allowance == timedelta(hours=72)
    assert dict(shipped.late_channels) == dict(LATE_CHANNELS)


def test_a_pack_without_intake_yaml_gets_the_defaults(tmp_path: Path) -> None:
    assert load_limits(policy_dir=tmp_path, pack="none") == IntakeLimits()


def test_a_pack_sets_its_own_allowance_and_late_channels(tmp_path: Path) -> None:
    text = (
        "receipt:\n  allowance: 24h\n  late_channels:\n    letter: {allowance: 10d, reason: post}\n"
    )
    limits = load_limits(policy_dir=pack(tmp_path, text), pack="mine")
    assert limits.allowance("web") == timedelta(hours=24)
    assert limits.allowance("letter") == timedelta(days=10)
    assert limits.allowance("fax") == timedelta(hours=24)  # the listed channels replace the rest


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("receipt: {allowance: 3wd}\n", "natural time"),
        ("receipt: {allowance: 0h}\n", "above 0"),
        ("receipt: {allowance: 400d}\n", "at most 366 days"),
        ("receipt: {alowance: 72h}\n", "unknown setting 'alowance'"),
        (
            "receipt:\n  late_channels:\n    pigeon: {allowance: 3d, reason: slow}\n",
            "no such channel",
        ),
        ("receipt:\n  late_channels:\n    letter: {allowance: 30d}\n", "say why"),
        ("receipt: [72h]\n", "must be a mapping"),
    ],
)
def test_a_bad_intake_yaml_is_refused_at_load_naming_file_and_setting(
    tmp_path: Path, text: str, says: str
) -> None:
    with pytest.raises(IntakePackError) as refused:
        load_limits(policy_dir=pack(tmp_path, text), pack="mine")
    assert says in str(refused.value)
    assert "intake.yaml" in str(refused.value)


def test_the_service_refuses_to_start_on_a_bad_pack(tmp_path: Path) -> None:
    settings = IntakeSettings(
        policy_dir=pack(tmp_path, "receipt: {allowance: 5wd}\n"), policy_pack="mine"
    )
    with pytest.raises(IntakePackError):
        create_app(settings, Ports(InMemoryComplaintStore(), FakeClock(NOW)))


async def test_the_service_enforces_its_packs_allowance_with_a_clear_reason(tmp_path: Path) -> None:
    text = "receipt: {allowance: 24h}\n"
    settings = IntakeSettings(
        policy_dir=pack(tmp_path, text), policy_pack="mine", api_keys={"web": "web-key-0123456789"}
    )
    app = create_app(settings, Ports(InMemoryComplaintStore(), FakeClock(NOW)))

    def body(hours_back: float) -> bytes:
        at = (NOW - timedelta(hours=hours_back)).isoformat()
        return json.dumps({"channel": "web", "text": "宽带断网三天了", "received_at": at}).encode()

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # no broker here
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
        headers = {"X-Api-Key": "web-key-0123456789"}
        late = await client.post("/complaints", content=body(30), headers=headers)
        fine = await client.post("/complaints", content=body(20), headers=headers)
    assert late.status_code == 422
    assert late.json()["reason"] == "bad_timestamp"
    assert "more than 24 h back, the most the web channel allows" in late.json()["detail"]
    assert fine.status_code != 422  # not refused for its time (publishing needs a broker)
