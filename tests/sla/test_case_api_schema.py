"""Schemathesis against the case API's OpenAPI document, in process: no input makes it fail with
a server error, and every answer matches the documented status codes and schemas."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from contracts import Event
from sla.adapters.privacy import InMemoryAccessLog, InMemoryContactDirectory
from sla.http_api import CaseDesk, create_case_api
from sla.privacy.api import add_privacy_routes
from sla.privacy.contact import ContactCard
from sla.privacy.reveal import RevealContact
from sla.queries import CaseQueries
from sla.settings import Role
from tests._builders.sla import CALENDAR, CID, KEYS, POLICY, STAFF, Rig, classified


async def _published(events: Sequence[Event]) -> None:
    del events  # accepted actions are not applied here: only the answers matter


def _app() -> object:
    rig = Rig()
    asyncio.run(rig.classified(classified()))
    desk = CaseDesk(
        cases=rig.cases, policy=POLICY, calendar=CALENDAR, publish=_published, clock=rig.clock
    )
    contacts = InMemoryContactDirectory()
    contacts.cards[CID] = ContactCard(phone="+8613812345678", name="张三", address="北京市朝阳区")
    queries = CaseQueries(cases=rig.cases, calendar=CALENDAR, contacts=contacts)
    app = create_case_api(desk=desk, queries=queries, staff=STAFF, clock=rig.clock)
    log = InMemoryAccessLog()
    add_privacy_routes(app, RevealContact(rig.cases, contacts, log, rig.clock))
    return app


schema = schemathesis.openapi.from_asgi("/cases/openapi.json", _app())
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_the_case_api_fail(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate(headers={"X-Api-Key": KEYS[Role.MANAGER]}, checks=CHECKS)
