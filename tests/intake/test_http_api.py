"""POST /complaints, exercised as an ASGI app with in-memory collaborators."""

from __future__ import annotations

import json
from datetime import timedelta

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


async def test_the_same_idempotency_key_with_another_body_is_refused_409_and_not_published() -> (
    None
):
    rig = Rig()
    headers = {"X-Api-Key": WEB_KEY, "Idempotency-Key": "retry-90"}
    first = await rig.post(complaint(), headers=headers)
    changed = await rig.post(complaint(text="另一件事：话费多扣了二十元。"), headers=headers)
    assert first[0] == 202
    assert changed == (
        409,
        {
            "error": "idempotency_key_reused",
            "detail": "this Idempotency-Key was used with a different body;"
            " send a new complaint with a new key",
        },
    )
    assert len(rig.submitted) == 1
    assert rig.dead == []  # not bad input: a client's mistake, answered at once


async def test_the_same_body_sent_again_the_next_day_or_reordered_gets_the_first_answer() -> None:
    rig = Rig()
    headers = {"X-Api-Key": WEB_KEY, "Idempotency-Key": "retry-91"}
    first = await rig.post(complaint(), headers=headers)
    rig.clock.advance(timedelta(days=1))
    message = json.loads(complaint())
    reordered = json.dumps(dict(reversed(list(message.items()))), ensure_ascii=False, indent=1)
    again = await rig.post(reordered.encode(), headers=headers)
    assert again == first
    assert len(rig.submitted) == 2  # published again: the first publish may have been lost


async def test_only_post_is_allowed() -> None:
    status, _ = await Rig().post(b"", method="GET", headers={"X-Api-Key": WEB_KEY})
    assert status == 405
