"""Pure ASGI middleware (no BaseHTTPMiddleware: it costs a task and a copy per request)."""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vidugate.api.errors import error_response
from vidugate.logs import request_id

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Per-process random prefix + counter: unique, and no system call per request.
_PREFIX = secrets.token_hex(4)
_COUNTER = itertools.count(1)


class RequestIdMiddleware:
    """Echo X-Request-ID (or make one) and bind it into every log line of the request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                given = value.decode("latin-1")
                break
        rid = given if given and _SAFE_ID.match(given) else f"req_{_PREFIX}{next(_COUNTER):x}"
        token = request_id.set(rid)
        header = (b"x-request-id", rid.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)


class StatusFastLane:
    """GET /v1/videos/{id} straight to its handler, past FastAPI's router, exception and
    exit-stack layers: clients poll it every second, and those layers cost more than the
    handler (bench/README.md). Errors go through the same envelope as every other route."""

    PREFIX = "/v1/videos/"

    def __init__(self, app: ASGIApp, handler: Callable[[Request], Awaitable[Response]]) -> None:
        self.app = app
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or not path.startswith(self.PREFIX)
            or "/" in path[len(self.PREFIX) :]
            or len(path) == len(self.PREFIX)
        ):
            await self.app(scope, receive, send)
            return
        scope["path_params"] = {"video_id": path[len(self.PREFIX) :]}
        request = Request(scope, receive)
        try:
            response = await self.handler(request)
        except Exception as exc:
            response = error_response(request, exc)
        await response(scope, receive, send)
