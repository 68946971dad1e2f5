"""`create_emulator(config)`: the ASGI app, wired once.

Plain Starlette (no FastAPI: no dependency solving or validation layers on a path that
must answer thousands of polls a second), one pure-ASGI fault middleware, one exception
handler for Vidu's envelope. The lifespan owns what needs a running loop: the result
store (its cache folder and, in "fixed" mode, the pre-rendered file) and the callback
dispatcher (its aiohttp session and scheduler task). `app.state.emulator` holds the
`Emulator` (tasks, accounts, stats) for in-process tests and tools.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from vidugate.clock import Clock
from vidugate.emulator.admin import AdminApi
from vidugate.emulator.callbacks import CallbackDispatcher
from vidugate.emulator.config import EmulatorConfig
from vidugate.emulator.core import Emulator
from vidugate.emulator.errors import ViduError, error_response, handle_vidu_error
from vidugate.emulator.faults import FaultMiddleware
from vidugate.emulator.results import ResultServer
from vidugate.emulator.routes import ViduApi

_REASONS = {404: "NotFound", 405: "MethodNotAllowed"}


def _http_error(_request: Request, exc: Exception) -> Response:
    """Unknown paths and wrong methods, in Vidu's envelope too."""
    assert isinstance(exc, HTTPException)
    reason = _REASONS.get(exc.status_code, "BadRequest")
    return error_response(exc.status_code, reason, str(exc.detail), dict(exc.headers or {}))


def create_emulator(config: EmulatorConfig, *, clock: Clock | None = None) -> Starlette:
    """The emulator's ASGI app; raises ValueError on an unusable config. `clock` (default:
    the system clock) is the one time source of the whole emulator."""
    emulator = Emulator(config, clock)
    results = ResultServer(emulator)
    callbacks = CallbackDispatcher(emulator)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await results.start()
        await callbacks.start()
        try:
            yield
        finally:
            await callbacks.stop()
            await results.stop()

    app = Starlette(
        routes=[
            *ViduApi(emulator).routes(),
            *results.routes(),
            *AdminApi(emulator).routes(),
        ],
        middleware=[Middleware(FaultMiddleware, emulator=emulator)],
        exception_handlers={
            ViduError: handle_vidu_error,
            404: _http_error,
            405: _http_error,
        },
        lifespan=lifespan,
    )
    app.state.emulator = emulator
    return app
