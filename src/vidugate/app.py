"""create_app(settings): the one wiring point of the HTTP application."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from vidugate import __version__
from vidugate.api import docs, errors, health, inputs, limits, upstream
from vidugate.api.middleware import RequestIdMiddleware, StatusFastLane
from vidugate.api.openai import models as openai_models
from vidugate.api.openai import unsupported as openai_unsupported
from vidugate.api.openai import videos as openai_videos
from vidugate.api.openai.render import RenderedVideos
from vidugate.api.unified import routes as unified_routes
from vidugate.api.vidu import routes as vidu_routes
from vidugate.logs import configure
from vidugate.services.container import open_services
from vidugate.settings import Role, Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure(settings.log_level)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_services(settings, run_workers=True) as services:
            app.state.services = services
            yield

    app = FastAPI(
        title="vidugate",
        version=__version__,
        summary="Video generation gateway: the Vidu video API, OpenAI-compatible.",
        lifespan=lifespan,
        docs_url=None,  # the viewers come from docs.install, on assets shipped in the package
        redoc_url=None,
    )
    docs.install(app)
    # Links are signed for at least signed_url_ttl_seconds, so a body reused for a quarter
    # of that (at most a minute) still hands out links with most of their life left.
    app.state.rendered_videos = RenderedVideos(
        min(60.0, settings.signed_url_ttl_seconds / 4), max_bytes=settings.render_cache_bytes
    )
    errors.install(app)
    if settings.role is not Role.WORKER:
        app.add_middleware(StatusFastLane, handler=openai_videos.retrieve_video)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(limits.BodyLimits, settings=settings)
    app.include_router(health.router)
    if settings.role is Role.WORKER:
        # A worker process answers health checks only: clients and upstream callbacks go
        # to the API processes, so routing can never split a client between the two.
        return app
    app.include_router(openai_unsupported.router)  # first: its paths are no video ids
    app.include_router(openai_videos.router)
    app.include_router(openai_models.router)
    app.include_router(vidu_routes.router)
    app.include_router(unified_routes.router)
    app.include_router(inputs.router)
    app.include_router(upstream.router)
    return app


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory vidugate.app:app_from_env`."""
    return create_app(Settings())
