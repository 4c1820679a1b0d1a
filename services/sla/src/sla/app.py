"""Assembly of the SLA service."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import timedelta

from faststream.asgi import AsgiFastStream
from faststream.asgi.types import ASGIApp

from servicekit.clock import Clock
from servicekit.shell import ServiceShell
from sla import handlers
from sla.adapters.deliveries import InMemoryCaseDeliveries, MongoCaseDeliveries
from sla.adapters.liveness import InMemoryLiveness, MongoLiveness
from sla.adapters.mongo_cases import MongoCaseStore
from sla.adapters.privacy import (
    InMemoryAccessLog,
    InMemoryContactDirectory,
    MongoAccessLog,
    MongoContactDirectory,
)
from sla.adapters.slots import MongoDueIndex
from sla.census import Census
from sla.clocks.liveness import ClaimRule, Liveness
from sla.domain import BusinessCalendar, SlaPolicy
from sla.http_api import PREFIX, PathPrefix, create_case_api
from sla.metrics import SlaMetrics
from sla.ports import CaseDeliveries, CaseStore, DueIndex
from sla.privacy.api import add_privacy_routes
from sla.privacy.ports import AccessLog, ContactDirectory
from sla.privacy.reveal import RevealContact
from sla.queries import CaseQueries
from sla.service import (
    ApplyCaseAction,
    CaseDesk,
    CaseWork,
    FireThresholds,
    RecordReceipt,
    ResolveIncidentMembers,
    StartClocks,
)
from sla.settings import SlaSettings

SERVICE = "sla"


@dataclass
class Ports:
    """Outside-world adapters; tests pass in-memory ones."""

    cases: CaseStore
    index: DueIndex
    clock: Clock
    contacts: ContactDirectory = field(default_factory=InMemoryContactDirectory)
    access_log: AccessLog = field(default_factory=InMemoryAccessLog)
    deliveries: CaseDeliveries = field(default_factory=InMemoryCaseDeliveries)
    liveness: Liveness = field(default_factory=InMemoryLiveness)


def create_app(settings: SlaSettings, ports: Ports | None = None) -> AsgiFastStream:
    """Build the SLA app; a bad policy pack or calendar fails here, before anything connects."""
    policy = SlaPolicy.load(policy_dir=settings.policy_dir, pack=settings.policy_pack)
    calendar = BusinessCalendar.load(policy_dir=settings.policy_dir, pack=settings.policy_pack)
    shell = ServiceShell(service=SERVICE, settings=settings, with_mongo=ports is None)
    if ports is None:
        db = shell.require_mongo().db
        # Slots hold business time; on a scaled demo clock they widen so a real second still
        # spans about one slot, and writes in flight get the same real time to land.
        index = MongoDueIndex(
            db,
            width=max(1, round(settings.slot_seconds * settings.time_scale)),
            settle=timedelta(seconds=10 * settings.time_scale),
        )
        ports = Ports(
            MongoCaseStore(db),
            index,
            shell.clock(),
            contacts=MongoContactDirectory(db),
            access_log=MongoAccessLog(db),
            deliveries=MongoCaseDeliveries(db),
            liveness=MongoLiveness(db),
        )
    metrics = SlaMetrics(shell.registry)
    scheduler = FireThresholds(
        cases=ports.cases,
        index=ports.index,
        publish=shell.publish,
        clock=ports.clock,
        metrics=metrics,
        policy=policy,
        calendar=calendar,
        owner=settings.replica_id or f"{socket.gethostname()}:{os.getpid()}",
        liveness=ports.liveness,
        # Leases, beats and slots are kept in business time: scaled, they last as long in real
        # time.
        lease=timedelta(seconds=settings.lease_seconds * settings.time_scale),
        rule=ClaimRule(stale_after=timedelta(seconds=settings.stale_seconds * settings.time_scale)),
        beat_every=settings.heartbeat_seconds,
        claim_batch=settings.claim_batch,
        claim_ahead=settings.claim_ahead_seconds,
        max_sleep=settings.max_sleep_seconds,
        time_scale=settings.time_scale,
    )
    work = CaseWork(
        policy=policy,
        calendar=calendar,
        cases=ports.cases,
        index=ports.index,
        publish=shell.publish,
        clock=ports.clock,
        metrics=metrics,
    )
    handlers.register(
        shell.broker,
        start=StartClocks.using(work, wake=scheduler.wake),
        actions=ApplyCaseAction.using(
            work, wake=scheduler.wake, concurrency=settings.action_concurrency
        ),
        receipts=RecordReceipt(
            cases=ports.cases, metrics=metrics, publish=shell.publish, clock=ports.clock
        ),
        incidents=ResolveIncidentMembers.using(work),
        policy=shell.policy(ports.clock),
        settings=settings.kafka,
        verifier=shell.verifier,
    )

    census = Census(store=ports.cases, metrics=metrics, interval=settings.census_seconds)
    loops = [("sla-scheduler", scheduler.run_forever)]
    if settings.census_seconds > 0:
        loops.append(("sla-census", census.run_forever))

    return shell.app(
        on_startup=[ports.cases.ensure_indexes, ports.access_log.ensure_indexes],
        # After the loops are cancelled: the firings this replica left unpublished are free.
        on_shutdown=[scheduler.leave],
        background=loops,
        routes=_case_api(settings, ports, policy, calendar, shell, metrics=metrics),
    )


def _case_api(
    settings: SlaSettings,
    ports: Ports,
    policy: SlaPolicy,
    calendar: BusinessCalendar,
    shell: ServiceShell,
    *,
    metrics: SlaMetrics,
) -> list[tuple[str, ASGIApp]]:
    """`/cases…` when staff API keys are configured (none: the case API is off)."""
    staff = settings.staff_keys()
    if not staff:
        return []
    desk = CaseDesk(
        cases=ports.cases,
        policy=policy,
        calendar=calendar,
        publish=shell.publish,
        clock=ports.clock,
        published=lambda action: metrics.staff_actions.labels(action.value).inc(),
    )
    queries = CaseQueries(
        cases=ports.cases,
        calendar=calendar,
        contacts=ports.contacts,
        deliveries=ports.deliveries,
    )
    api = create_case_api(desk=desk, queries=queries, staff=staff, clock=ports.clock)
    reveal = RevealContact(
        cases=ports.cases, contacts=ports.contacts, access_log=ports.access_log, clock=ports.clock
    )
    add_privacy_routes(api, reveal)
    return [(PathPrefix(PREFIX), api)]
