"""Every request, seen once from outside everything else (the fast lane too): counted for
/metrics by route template, method and status, timed, and logged as one `http.request`
event. A pure ASGI middleware, so it costs a function call and a closure per request.

Routes are labelled by their template (`/v1/videos/{video_id}`), never by the path sent,
so ids cannot multiply the series; a request no route matched is `unmatched`. The log
event has the path without its query (a signed link's signature is in the query)."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vidugate import metrics
from vidugate.logs import get_logger

log = get_logger("vidugate.http")
_HTTP_LOG = logging.getLogger("vidugate.http")

# Set by the fast lane (api/middleware.py), which answers before any router runs.
ROUTE = "vidugate.route"
# (key id, tenant id) of a request whose key check passed (api/deps.py).
CALLER = "vidugate.caller"
# The request's id (api/middleware.py), for the event written after the id is unbound.
REQUEST_ID = "vidugate.request_id"
UNMATCHED = "unmatched"


def template_of(scope: Scope) -> str:
    """The route the request matched, as written in the app (bounded: one per route)."""
    given: str | None = scope.get(ROUTE)
    if given is not None:
        return given
    path: str | None = getattr(scope.get("route"), "path", None)
    return path if path else UNMATCHED


class RequestObserver:
    def __init__(self, app: ASGIApp, *, count: bool, log_requests: bool) -> None:
        self.app = app
        self.count = count
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        answer: list[int] = []  # the status, once the answer starts

        async def observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer.append(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            seconds = time.perf_counter() - start
            # No answer at all: the server answers 500 for an app that raised before one.
            status = answer[0] if answer else 500
            route = template_of(scope)
            if self.count:
                metrics.request(route, scope["method"], status, seconds)
            # Asked first: at warning level the event would be built only to be dropped.
            if self.log_requests and _HTTP_LOG.isEnabledFor(logging.INFO):
                self._log(scope, route, status, seconds)

    def _log(self, scope: Scope, route: str, status: int, seconds: float) -> None:
        key_id, tenant_id = scope.get(CALLER) or (None, None)
        log.info(
            "http.request",
            method=scope["method"],
            route=route,
            path=scope["path"],
            status=status,
            duration_ms=round(seconds * 1000, 3),
            request_id=scope.get(REQUEST_ID, "-"),
            key_id=key_id,
            tenant_id=tenant_id,
        )
