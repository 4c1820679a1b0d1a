"""POST /complaints, exercised as an ASGI app with in-memory collaborators."""

from __future__ import annotations

import pytest

from tests._builders.intake_http import APP_KEY, WEB_KEY, Rig, complaint


async def test_accepted_complaint_is_published_and_answered_with_its_case_number() -> None:
    rig = Rig()
    status, body = await rig.post(complaint(external_id="w-1"), headers={"X-Api-Key": WEB_KEY})
    assert status == 202
    assert body["status"] == "accepted"
    assert body["complaint_id"].startswith("CP20261124-")
    assert rig.submitted == [(b"web:w-1", complaint(external_id="w-1"))]


@pytest.mark.parametrize("headers", [{}, {"X-Api-Key": "wrong"}])
async def test_a_missing_or_unknown_key_is_refused(headers: dict[str, str]) -> None:
    rig = Rig()
    status, body = await rig.post(complaint(), headers=headers)
    assert (status, body["error"]) == (401, "unauthorized")
    assert rig.submitted == []


async def test_a_key_submits_for_its_own_channel_only() -> None:
    rig = Rig()
    status, _ = await rig.post(complaint(), headers={"X-Api-Key": APP_KEY})
    assert status == 403
    assert rig.submitted == []


async def test_bad_input_is_answered_with_the_reason_and_dead_lettered() -> None:
    rig = Rig()
    status, body = await rig.post(
        b'{"channel": "web", "text": "   "}', headers={"X-Api-Key": WEB_KEY}
    )
    assert (status, body["reason"]) == (422, "empty_text")
    assert [r.reason for r in rig.dead] == ["empty_text"]
    assert rig.dead[0].message.value == b'{"channel": "web", "text": "   "}'
    assert rig.submitted == []


async def test_operator_keys_never_get_through() -> None:
    rig = Rig()
    status, body = await rig.post(
        complaint(extra={"$where": "sleep(1000)"}), headers={"X-Api-Key": WEB_KEY}
    )
    assert (status, body["reason"]) == (422, "operator_keys")
    assert rig.submitted == []


async def test_an_oversize_body_is_refused_while_streaming() -> None:
    rig = Rig(max_bytes=1024)
    status, body = await rig.post(
        complaint(text="投诉" * 2000), headers={"X-Api-Key": WEB_KEY}, chunk=256
    )
    assert (status, body["error"]) == (413, "oversize")
    assert rig.submitted == []


async def test_a_retry_with_the_same_idempotency_key_gets_the_same_case_number() -> None:
    rig = Rig()
    headers = {"X-Api-Key": WEB_KEY, "Idempotency-Key": "retry-77"}
    first = await rig.post(complaint(), headers=headers)
    second = await rig.post(complaint(), headers=headers)
    other = await rig.post(complaint(), headers={**headers, "Idempotency-Key": "retry-78"})
    assert first == second
    assert other[1]["complaint_id"] != first[1]["complaint_id"]
    assert {key for key, _ in rig.submitted} == {b"web:idem:retry-77", b"web:idem:retry-78"}


async def test_only_post_is_allowed() -> None:
    status, _ = await Rig().post(b"", method="GET", headers={"X-Api-Key": WEB_KEY})
    assert status == 405
