"""Fault injection at the HTTP edge: latency, slow answers, 5xx, 429, and the lost create
answer.

`FaultMiddleware` is a pure ASGI middleware (no BaseHTTPMiddleware: that would cost every
status poll a task switch) in front of the /ent/v2 surface only; admin and result routes
are never faulted, so tests can always look at what happened. Per request: a roll of
`error_5xx` (500, 502 or 503, reason `InternalServiceFailure`), then a roll of
`throttle_429` (reason `TooManyRequests` or `SystemThrottling`, `Retry-After: 1`); both
refusals happen before authentication or any other work, like a front proxy's would.
`latency` holds every answer back that many seconds *after* the work is done: the body is
read and the task made at once, so a client that gives up (or dies) while waiting leaves a
task behind, exactly the case the gateway's lost-create recovery has to handle. `slow` does
the same to a random share of answers (held `slow_seconds` more), so a client's own time
limit strikes now and then amid normal traffic, which one global latency cannot show.

A lost create (`lost_create`) is decided by the create route after the task exists and its
credits are taken; it answers `LostAnswer`, which closes the TCP connection without writing a
byte, as a real lost answer looks to a client (httpx raises RemoteProtocolError "Server
disconnected without sending a response"). Closing needs the server's transport, which
ASGI does not expose; under uvicorn it is reached through the `receive` callable's owner.
Under any other server the emulator falls back to 504 `GatewayTimeout` (in Vidu's error
envelope) — still an answer that tells the caller nothing about the task.
"""

from __future__ import annotations

import asyncio
import contextlib

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vidugate.emulator.core import Emulator
from vidugate.emulator.errors import error_response

VIDU_PREFIX = "/ent/v2/"
RETRY_AFTER_SECONDS = "1"
_DISCONNECT_WAIT = 5.0


class FaultMiddleware:
    def __init__(self, app: ASGIApp, emulator: Emulator) -> None:
        self.app = app
        self.emulator = emulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(VIDU_PREFIX):
            await self.app(scope, receive, send)
            return
        emulator = self.emulator
        latency = emulator.config.faults.latency
        if latency > 0:
            emulator.stats.faults["latency"] += 1
        if emulator.roll("slow"):
            latency += emulator.config.faults.slow_seconds
        if latency > 0:
            send = _delayed(send, latency)
        refusal: Response | None = None
        if emulator.roll("error_5xx"):
            status = emulator.pick((500, 502, 503))
            refusal = error_response(status, "InternalServiceFailure", "internal service failure")
        elif emulator.roll("throttle_429"):
            reason = emulator.pick(("TooManyRequests", "SystemThrottling"))
            refusal = error_response(
                429, reason, "too many requests", {"Retry-After": RETRY_AFTER_SECONDS}
            )
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _delayed(send: Send, seconds: float) -> Send:
    """`send` holding the answer back `seconds` once the work is done (see the docstring)."""

    async def delayed_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            # Real time, not the emulator's clock: it is there to meet the client's own
            # (real) time limits.
            await asyncio.sleep(seconds)
        await send(message)

    return delayed_send


class LostAnswer(Response):
    """Close the connection instead of answering (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__(status_code=504)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        transport = getattr(getattr(receive, "__self__", None), "transport", None)
        close = getattr(transport, "close", None)  # asyncio's or uvloop's transport
        if callable(close):
            close()
            # Wait until the server has seen the disconnect, so it does not answer for us.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_DISCONNECT_WAIT):
                    while (await receive())["type"] != "http.disconnect":
                        pass
            return
        fallback = error_response(504, "GatewayTimeout", "the upstream answer was lost")
        await fallback(scope, receive, send)
