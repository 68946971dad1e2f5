"""Pure ASGI middleware (no BaseHTTPMiddleware: it costs a task and a copy per request)."""

from __future__ import annotations

import itertools
import re
import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
