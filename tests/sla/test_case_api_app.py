"""The case API inside the SLA service's app: mounted under /cases when keys are configured."""

from __future__ import annotations

import json

import httpx
import pytest

from sla.app import create_app
from sla.http_api import PathPrefix
from sla.settings import Role, SlaSettings
from tests._builders.sla import CID, classified
from tests._builders.sla import Rig as HandlerRig
from tests._builders.sla_app import KEY, KEYS, memory_ports, settings


async def get(settings_: SlaSettings, path: str, key: str = KEY) -> httpx.Response:
    rig = HandlerRig()
    await rig.classified(classified())
    app = create_app(settings_, memory_ports(rig))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sla") as client:
        return await client.get(path, headers={"X-Api-Key": key})


async def test_the_service_serves_the_case_tree_with_the_configured_keys() -> None:
    configured = settings(KEYS)
    shown = await get(configured, f"/cases/{CID}")
    assert shown.status_code == 200, shown.text
    assert shown.json()["complaint_id"] == CID
    assert (await get(configured, f"/cases/{CID}/actions/x-1")).status_code == 404  # never sent
    assert len((await get(configured, "/cases")).json()["items"]) == 1
    assert (await get(configured, "/cases", key="wrong-key-0123456789")).status_code == 401
    assert (await get(configured, "/casesx")).status_code == 404
    assert (await get(configured, "/healthz")).status_code == 200


async def test_without_keys_the_case_api_is_off() -> None:
    assert (await get(settings(""), "/cases")).status_code == 404


def test_keys_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLA_API_KEYS", KEYS)
    staff = SlaSettings().staff_keys()
    assert staff[KEY].staff_id == "lead-01"
    assert staff[KEY].role is Role.LEAD
    assert KEY not in repr(SlaSettings())


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        json.dumps({KEY: {"staff_id": "x", "role": "janitor"}}),
        json.dumps({KEY: {"role": "lead"}}),
        json.dumps({"short": {"staff_id": "x", "role": "lead"}}),
    ],
)
def test_bad_keys_stop_the_service_without_showing_a_key(raw: str) -> None:
    with pytest.raises(ValueError, match="SLA_API_KEYS") as caught:
        create_app(settings(raw), memory_ports())
    assert KEY not in str(caught.value)
    assert '"short"' not in str(caught.value)


def test_a_path_prefix_matches_itself_and_what_is_below_it() -> None:
    prefix = PathPrefix("/cases")
    assert prefix == "/cases"
    assert "/cases/CP1/actions" == prefix  # noqa: SIM300 - as FastStream compares
    assert prefix != "/casesx"
    assert prefix != "/"
    assert hash(prefix) == hash("/cases")
