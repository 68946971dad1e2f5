"""create_app(settings, clock=None): the HTTP application. Its routes, middleware and error
handlers are put together here; its lifespan opens the composition root (bootstrap.py),
which builds and starts everything else, and hands the routes their objects."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from vidugate import __version__
from vidugate.api import (
    billing,
    docs,
    errors,
    health,
    inputs,
    limits,
    playground,
    scrape,
    upstream,
)
from vidugate.api.admin import limits as admin_limits
from vidugate.api.admin import reports as admin_reports
from vidugate.api.admin import routes as admin_routes
from vidugate.api.admin import timeline as admin_timeline
from vidugate.api.admin import upstream as admin_upstream
from vidugate.api.admin import webhooks as admin_webhooks
from vidugate.api.deps import RouteObjects
from vidugate.api.middleware import FastLane, RequestIdMiddleware
from vidugate.api.observe import RequestObserver
from vidugate.api.openai import models as openai_models
from vidugate.api.openai import unsupported as openai_unsupported
from vidugate.api.openai import videos as openai_videos
from vidugate.api.openai.render import RenderedVideos
from vidugate.api.unified import routes as unified_routes
from vidugate.api.vidu import routes as vidu_routes
from vidugate.api.webhooks import routes as webhook_routes
from vidugate.bootstrap import open_gateway
from vidugate.clock import Clock, SystemClock
from vidugate.logs import configure
from vidugate.settings import Role, Settings


class GatewayApp(FastAPI):
    """FastAPI, with the fast lane (api/middleware.py) called before any of its layers, and
    the observer of every request (api/observe.py) around both."""

    lane: FastLane | None = None
    observer: RequestObserver | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        observer = self.observer
        if observer is not None:
            await observer(scope, receive, send)
        else:
            await self.dispatch(scope, receive, send)

    async def dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        lane = self.lane
        if lane is not None and lane.takes(scope):
            scope["app"] = self  # what Starlette would set: routes read app.state
            await lane(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings, clock: Clock | None = None) -> FastAPI:
    """The gateway's ASGI app; `clock` (default: the system clock) is the time of every
    part of it."""
    clock = clock or SystemClock()
    configure(settings.log_level, settings.log_format)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_gateway(settings, clock=clock) as gateway:
            objects: RouteObjects = gateway  # the routes' view of it (api/deps.py)
            app.state.gateway = objects
            yield

    app = GatewayApp(
        title="vidugate",
        version=__version__,
        summary="Video generation gateway: the Vidu video API, OpenAI-compatible.",
        lifespan=lifespan,
        docs_url=None,  # the viewers come from docs.install, on assets shipped in the package
        redoc_url=None,
        # The gateway sets up no OpenTelemetry; left on, FastAPI would look for providers
        # (environment lookups) on every request, a fifteenth of a create's time.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    docs.install(app)
    app.state.settings = settings
    app.state.clock = clock
    # Links are signed for at least signed_url_ttl_seconds, so a body reused for a quarter
    # of that (at most a minute) still hands out links with most of their life left.
    app.state.rendered_videos = RenderedVideos(
        min(60.0, settings.signed_url_ttl_seconds / 4),
        max_bytes=settings.render_cache_bytes,
        clock=clock,
    )
    errors.install(app)
    if settings.role is not Role.WORKER:
        app.lane = FastLane(
            retrieve=openai_videos.retrieve_video,
            create=openai_videos.create_video,
            settings=settings,
        )
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(limits.BodyLimits, settings=settings)
    if settings.metrics or settings.log_requests:
        app.observer = RequestObserver(
            app.dispatch, count=settings.metrics, log_requests=settings.log_requests
        )
    app.include_router(health.router)
    if settings.metrics:
        app.include_router(scrape.router)  # a worker's counters are worth a scrape too
    if settings.role is Role.WORKER:
        # A worker process answers health checks only: clients and upstream callbacks go
        # to the API processes, so routing can never split a client between the two.
        return app
    app.include_router(openai_unsupported.router)  # first: its paths are no video ids
    app.include_router(billing.router)  # ahead of /v1/videos/{video_id}: "quote" is none
    app.include_router(openai_videos.router)
    app.include_router(openai_models.router)
    app.include_router(vidu_routes.router)
    app.include_router(unified_routes.router)
    app.include_router(inputs.router)
    app.include_router(upstream.router)
    app.include_router(admin_routes.router)
    app.include_router(admin_reports.router)
    app.include_router(admin_limits.router)
    app.include_router(webhook_routes.router)
    app.include_router(webhook_routes.public)
    app.include_router(admin_webhooks.router)
    app.include_router(admin_timeline.router)
    app.include_router(admin_upstream.router)
    playground.install(app)
    return app


def app_from_env() -> FastAPI:
    """Factory for running the gateway under a server of one's own choosing:
    `uvicorn --factory vidugate.app:app_from_env` (settings from VIDUGATE_*)."""
    return create_app(Settings())
