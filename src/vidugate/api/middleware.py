"""Pure ASGI middleware (no BaseHTTPMiddleware: it costs a task and a copy per request)."""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vidugate.api.deps import RATE_HEADERS
from vidugate.api.errors import error_response
from vidugate.api.limits import BodyLimits
from vidugate.api.observe import REQUEST_ID, ROUTE
from vidugate.logs import caller, request_id
from vidugate.settings import Settings

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Per-process random prefix + counter: unique, and no system call per request.
_PREFIX = secrets.token_hex(4)
_COUNTER = itertools.count(1)


class RequestIdMiddleware:
    """Echo X-Request-ID (or make one) and bind it into every log line of the request
    (with the key that made it, once known: api/deps.py)."""

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
        caller_token = caller.set(None)
        scope[REQUEST_ID] = rid
        header = (b"x-request-id", rid.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                # With a call's x-ratelimit-* headers, noted by its key check (api/deps.py).
                rates = scope.get(RATE_HEADERS, ())
                message["headers"] = [*message.get("headers", []), header, *rates]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)
            caller.reset(caller_token)


Handler = Callable[[Request], Awaitable[Response]]
_CHOSEN = "vidugate.fast_lane"


class FastLane:
    """The two calls clients make most, straight to their handlers: GET /v1/videos/{id},
    polled every second, and POST /v1/videos, the create. The app calls it before any of
    FastAPI's layers (router, dependencies, exception and exit-stack middleware), which
    cost more than the handlers (bench/README.md); only the gateway's own body limits and
    request id wrap it, as they wrap every route. The routes take the bare request, so the
    same handler serves any other way in (and documents the route). Errors go through the
    same envelope as every route's."""

    PATH = "/v1/videos"
    PREFIX = PATH + "/"
    ITEM = PREFIX + "{video_id}"  # the route's template, as the router's would name it

    def __init__(self, *, retrieve: Handler, create: Handler, settings: Settings) -> None:
        self.retrieve = retrieve
        self.create = create
        self._chain = BodyLimits(RequestIdMiddleware(self._answer), settings=settings)

    def takes(self, scope: Scope) -> bool:
        """Whether the request is one of the lane's (its handler is noted in the scope)."""
        if scope["type"] != "http":
            return False
        path: str = scope.get("path", "")
        method = scope["method"]
        if method == "POST" and path == self.PATH:
            scope[_CHOSEN] = self.create
            scope[ROUTE] = self.PATH
            return True
        if method == "GET" and path.startswith(self.PREFIX):
            video_id = path[len(self.PREFIX) :]
            if video_id and "/" not in video_id:
                scope["path_params"] = {"video_id": video_id}
                scope[_CHOSEN] = self.retrieve
                scope[ROUTE] = self.ITEM
                return True
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._chain(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            response = await scope[_CHOSEN](request)
        except Exception as exc:
            response = error_response(request, exc)
        await response(scope, receive, send)
