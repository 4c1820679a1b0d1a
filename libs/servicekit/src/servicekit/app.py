"""The ASGI shell around each service's broker: /metrics, /healthz, /readyz, start and stop."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import uvicorn
import uvloop
from faststream.asgi import AsgiFastStream, AsgiResponse, get
from faststream.asgi.types import ASGIApp, Scope
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry, make_asgi_app

from servicekit.heap import settle_heap
from servicekit.logs import configure_logging
from servicekit.settings import ServiceSettings

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[bool]]
Hook = Callable[[], Awaitable[None]]


def build_app(
    *,
    broker: KafkaBroker,
    registry: CollectorRegistry,
    readiness: Sequence[Check] = (),
    on_startup: Sequence[Hook] = (),
    after_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
    after_shutdown: Sequence[Hook] = (),
    routes: Sequence[tuple[str, ASGIApp]] = (),
) -> AsgiFastStream:
    """Wrap `broker` with health, readiness and metrics endpoints.

    `/healthz` answers while the process serves (liveness); `/readyz` also needs the broker and
    every readiness check (e.g. MongoDB) to answer, so orchestrators route work only when it can
    be done.
    """

    @get(include_in_schema=False)
    async def healthz(scope: Scope) -> AsgiResponse:  # noqa: ARG001 (ASGI handler signature)
        return AsgiResponse(b'{"status":"ok"}', 200, headers={"content-type": "application/json"})

    @get(include_in_schema=False)
    async def readyz(scope: Scope) -> AsgiResponse:  # noqa: ARG001 (ASGI handler signature)
        results = [await broker.ping(timeout=2.0)]
        results += [await check() for check in readiness]
        ok = all(results)
        body = b'{"status":"ready"}' if ok else b'{"status":"not ready"}'
        return AsgiResponse(body, 200 if ok else 503, headers={"content-type": "application/json"})

    return AsgiFastStream(
        broker,
        asgi_routes=[
            ("/metrics", make_asgi_app(registry)),
            ("/healthz", healthz),
            ("/readyz", readyz),
            *routes,
        ],
        on_startup=list(on_startup),
        after_startup=list(after_startup),
        on_shutdown=list(on_shutdown),
        after_shutdown=list(after_shutdown),
    )


def serve(app: AsgiFastStream, *, host: str, port: int, grace_s: float = 2.0) -> None:
    """Run `app` under uvicorn until SIGTERM / SIGINT.

    Requests in flight get `grace_s` seconds, then are cut; in-flight batches get the broker's
    graceful timeout (an unfinished batch is not committed and comes again), so the process is
    gone within 10 s of SIGTERM. The event loop is uvloop's: the services are loops of small
    awaits (Kafka fetches, Mongo round trips, HTTP sends), where its cheaper scheduling saves CPU.
    """
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=max(1, round(grace_s)),
    )
    uvloop.run(uvicorn.Server(config).serve())


def run_service(
    service: str, settings: ServiceSettings, create_app: Callable[[Any], AsgiFastStream]
) -> None:
    """Entry point body shared by `python -m <service>`: logging, app, serve."""
    configure_logging(service=service, level=settings.log_level, fmt=settings.log_format)
    app = create_app(settings)
    app.after_startup(settle_heap)  # the process's own heap, not a test's: here, not in build_app
    serve(
        app,
        host=settings.http_host,
        port=settings.http_port,
        grace_s=settings.http_guard.shutdown_grace_seconds,
    )
