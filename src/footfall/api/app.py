"""The ASGI application factory: one app per database, all surfaces mounted on it.

Errors never leak: a malformed request is a 4xx in the envelope, anything unexpected is a
500 with code 7 and a generic message (the traceback goes to the log only).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from footfall import __version__
from footfall.config import Settings
from footfall.domain.ingest import MAX_BODY_BYTES
from footfall.domain.times import now_ms
from footfall.forwarded import ForwardedClient
from footfall.root import Database, ServerServices, new_database, server_services
from footfall.services.analytics import HistogramJob, HistogramRun
from footfall.services.drift import IdleResetAudit
from footfall.services.key_check import verify_server_key
from footfall.services.retention import purge_expired_events
from footfall.services.revisions import notify as notify_revisions
from footfall.services.webhooks import watch_metrics
from footfall.web import views
from footfall.web.headers import SecurityHeaders
from footfall.web.throttle import LoginThrottle

from . import access_log, feeds, health, ingest, metrics, openapi_doc, read
from .background import Job, run_jobs
from .body_budget import BodyBudget
from .docs_ui import install_docs
from .envelope import Code, error
from .middleware import RequestObserver

__all__ = ["create_app"]

log = logging.getLogger("footfall.api")


def _background_jobs(settings: Settings, db: Database) -> list[Job]:
    histograms = HistogramJob(db, retention_days=settings.retention_days)
    return [
        # Occupancy and queue changes become webhook deliveries (coalesced to 1 per s).
        Job("metric-webhooks", 0.5, lambda: watch_metrics(db), initial_delay=0.5),
        # Every 5 s: a completed hour's histogram is readable well within 10 s, and a
        # backfill streaming into past hours is not recomputed more often than useful.
        # Bounded passes, one after another while work is left (locations in turn).
        Job(
            "histograms",
            5.0,
            histograms.run_pass,
            initial_delay=0.5,
            busy=lambda run: isinstance(run, HistogramRun) and run.more,
        ),
        # Idle resets of occupancy counters go into their audit trail.
        Job("occupancy-audit", 5.0, IdleResetAudit(db).run, initial_delay=2.0),
        # Revised hours become `revisions` deliveries (coalesced per hour).
        Job("revision-webhooks", 1.0, lambda: notify_revisions(db), initial_delay=1.0),
        Job(
            "retention",
            settings.purge_interval,
            lambda: purge_expired_events(db, settings.retention_days),
            initial_delay=5.0,
        ),
    ]


def create_app(
    settings: Settings | None = None,
    *,
    db: Database | None = None,
    clock: Callable[[], int] = now_ms,
    background: bool = True,
) -> FastAPI:
    settings = settings or Settings.from_env()
    database = db or new_database(settings.database_url)
    # Fail at start, not at the first request, without the secrets' key or with a wrong one.
    verify_server_key(database)
    access_log.install()
    services = server_services(settings, database, clock)
    dispatcher = services.dispatcher

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        tasks = run_jobs(_background_jobs(settings, database)) if background else []
        if background:
            tasks.append(asyncio.create_task(dispatcher.run(), name="footfall-dispatcher"))
            if settings.mqtt_url:
                from footfall.mqtt.publisher import MetricsPublisher

                publisher = MetricsPublisher(database, settings, clock=clock)
                tasks.append(asyncio.create_task(publisher.run(), name="footfall-mqtt"))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.to_thread(app.state.ingest.close)
            if db is None:
                database.dispose()

    app = FootfallApp(
        title="Footfall",
        version=__version__,
        description=(
            "Self-hosted video-analytics events: an ingest API for edge agents and a "
            "read API compatible with the Camlytics Service REST API v1."
        ),
        lifespan=lifespan,
        docs_url=None,  # served offline by `install_docs`
        redoc_url=None,
    )
    _keep_state(app, settings, database, services, clock)
    app.add_middleware(
        BodyBudget,
        limit=settings.body_bytes_in_flight,
        largest=MAX_BODY_BYTES,
        wait=settings.body_wait,
    )
    _install_routes(app)
    _install_error_handlers(app)
    app.add_middleware(SecurityHeaders)
    # Outermost: everything inside (sign-in back-off, access log) sees the real client.
    app.add_middleware(ForwardedClient, trusted=settings.forwarded_allow_ips)
    return app


def _keep_state(
    app: FastAPI,
    settings: Settings,
    database: Database,
    services: ServerServices,
    clock: Callable[[], int],
) -> None:
    """What the routes find on `app.state`: settings, database, services, clock."""
    app.state.settings = settings
    app.state.db = database
    app.state.ingest = services.ingest
    app.state.dispatcher = services.dispatcher
    app.state.reads = services.reads
    app.state.clock = clock
    app.state.login_throttle = LoginThrottle(lambda: clock() / 1000)
    if settings.admin_token_problem:
        log.warning("%s", settings.admin_token_problem)
    app.state.metrics_registry = metrics.registry(database, clock)


def _install_routes(app: FastAPI) -> None:
    """Every surface: the API's routers, then the dashboard and its assets."""
    app.add_middleware(RequestObserver)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(ingest.router)
    app.include_router(read.router)
    app.include_router(feeds.router)
    app.include_router(views.router)
    app.mount("/assets", StaticFiles(directory=views.STATIC_DIR), name="assets")
    install_docs(app)


def _install_error_handlers(app: FastAPI) -> None:
    async def on_http_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = Code.PARAMETER if exc.status_code < 500 else Code.INTERNAL
        return error(exc.status_code, code, str(exc.detail), headers=exc.headers)

    async def on_validation_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()
        )
        return error(400, Code.PARAMETER, f"malformed request: {problems}")

    async def on_unexpected(_request: Request, exc: Exception) -> Response:
        log.exception("internal error", exc_info=exc)
        return error(500, Code.INTERNAL, "internal error; the details are in the server log")

    async def on_unauthorized(request: Request, exc: Exception) -> Response:
        return ingest.unauthorized_handler(request, exc)

    async def on_api_error(request: Request, exc: Exception) -> Response:
        return read.api_error_handler(request, exc)

    async def on_redirect(request: Request, exc: Exception) -> Response:
        return views.redirect_handler(request, exc)

    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(ingest.Unauthorized, on_unauthorized)
    app.add_exception_handler(read.ApiError, on_api_error)
    app.add_exception_handler(views.Redirect, on_redirect)
    app.add_exception_handler(Exception, on_unexpected)


class FootfallApp(FastAPI):
    """The app, whose OpenAPI document is FastAPI's routes plus the generated contract."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema:
            return self.openapi_schema
        schema = get_openapi(
            title=self.title, version=self.version, description=self.description, routes=self.routes
        )
        # Generated from the typed contract (docs/api.md; `openapi_doc`).
        components = schema.setdefault("components", {})
        components.setdefault("schemas", {}).update(openapi_doc.components())
        components.setdefault("securitySchemes", {}).update(openapi_doc.SECURITY_SCHEMES)
        schema["webhooks"] = openapi_doc.webhooks()
        self.openapi_schema = schema
        return schema
