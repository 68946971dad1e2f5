"""Limits on connections that uvicorn does not have: a time limit on each request's head,
and a cap on the connections one process serves.

uvicorn's keep-alive timeout runs only between requests, and any byte that arrives cancels
it; it has no limit on how long a request's line and headers take to arrive. So a client
that opens a connection and sends nothing, or trickles header lines, holds it (and its
file descriptor) for as long as it likes. GuardedHttpProtocol is uvicorn's httptools
protocol plus one timer: armed when the connection is made, and again by the first byte of
each later request, disarmed when the head is complete. If it fires the connection is
closed, after a 408 when part of a request had come (a connection that sent nothing is just
closed, as an idle keep-alive one is). The body has its own limits (BodyLimits, limits.py),
and idle keep-alive connections uvicorn's `timeout_keep_alive`.

The cap: a request whose head completes while more than max_connections connections are
open (or max_connections requests are running) is answered 503 with Retry-After and
`Connection: close`, in the envelope of the surface it called, without reaching a route.
uvicorn's own `limit_concurrency` answers a bare text 503 and keeps the connection open."""

from __future__ import annotations

import asyncio
import functools
import json
from dataclasses import dataclass
from typing import Any, cast

from starlette.requests import Request
from starlette.types import Receive, Scope, Send
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from vidugate.api.errors import error_response, render_error, render_vidu_error
from vidugate.errors import InvalidRequestError, ServiceUnavailableError


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    head_timeout: float
    max_connections: int


def guarded_protocol(limits: ConnectionLimits) -> functools.partial[GuardedHttpProtocol]:
    """What to pass as uvicorn's `http=`; picklable, so it reaches spawned worker processes."""
    return functools.partial(GuardedHttpProtocol, limits=limits)


class GuardedHttpProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        limits: ConnectionLimits,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = limits
        self.limit_concurrency = None  # the cap is checked below, with its own answer
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_begun = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(cast(asyncio.Transport, transport))
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # A byte between requests starts the next head's clock, even one the parser skips
        # (a stray CRLF): it has cancelled uvicorn's keep-alive timer.
        if self._head_timer is None and (self.cycle is None or self.cycle.response_complete):
            self._arm()
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_begun = True
        if self._head_timer is None:  # a request pipelined behind a running one
            self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        self._head_begun = False
        cap = self.limits.max_connections
        if len(self.connections) <= cap and len(self.tasks) < cap:
            super().on_headers_complete()
            return
        # uvicorn starts whatever self.app is for this request: the refusal, this once.
        self.logger.warning("Over the connection cap (%d): answered 503.", cap)
        app, self.app = self.app, over_capacity
        try:
            super().on_headers_complete()
        finally:
            self.app = app

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a request it cannot read as HTTP (a bad header character,
        a URL past httptools' 64 KiB), in the envelope of the surface called rather than
        uvicorn's plain text; then the connection is closed, as uvicorn closes it."""
        error = InvalidRequestError(f"The request could not be read as HTTP: {msg}")
        url: bytes = getattr(self, "url", b"")
        vidu = url.startswith(b"/vidu/")
        response = render_vidu_error(error, "-") if vidu else render_error(error)
        self.transport.write(_closing_answer(400, bytes(response.body)))
        self.transport.close()

    def _arm(self) -> None:
        self._head_timer = self.loop.call_later(self.limits.head_timeout, self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        idle = self.cycle is None or self.cycle.response_complete
        if self._head_begun and idle:  # not in the middle of another request's answer
            self.transport.write(_timeout_answer(self.limits.head_timeout))
        self.transport.close()


def _timeout_answer(seconds: float) -> bytes:
    body = json.dumps(
        {
            "error": {
                "message": f"The request's line and headers did not arrive within {seconds:g} s.",
                "type": "invalid_request_error",
                "param": None,
                "code": "request_timeout",
            }
        }
    ).encode()
    return _closing_answer(408, body)


def _closing_answer(status: int, body: bytes) -> bytes:
    """A whole JSON answer, written straight to the connection, which then closes."""
    head = (
        b"content-type: application/json\r\n"
        b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body)
    )
    return STATUS_LINE[status] + head + body


async def over_capacity(scope: Scope, receive: Receive, send: Send) -> None:
    """The answer to a request past the connection cap."""
    request = Request(scope, receive)
    error = ServiceUnavailableError(
        "The gateway is serving as many connections as it takes; retry shortly.",
        code="over_capacity",
        retry_after=1,
    )
    response = error_response(request, error)
    response.headers["connection"] = "close"
    await response(scope, receive, send)
