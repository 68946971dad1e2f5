"""Bounds on what one request may make the gateway wait for or hold.

uvicorn waits for a request body for as long as the client takes to send it: it has no
time limit of its own (its keep-alive timeout runs only between requests, and any byte
that arrives cancels it). So a client that trickles a body (a byte now and then, or
nothing at all after the headers) would hold a connection, and the request waiting on
it, forever. BodyLimits gives the body a deadline
for the whole of it and a limit on each silence, and caps its size for every route as a
backstop behind each route's own cap; past any of them the route's body read raises, and
the error is answered in the surface's envelope like any other.

An answer given before the body was all read also closes the connection
(`Connection: close`): otherwise uvicorn would go on reading, and discarding, whatever
the client still sends."""

from __future__ import annotations

import asyncio
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vidugate.api.body import body_limit
from vidugate.errors import PayloadTooLargeError, RequestTimeoutError
from vidugate.settings import Settings

_CLOSE = (b"connection", b"close")


class BodyLimits:
    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.total_seconds = settings.body_timeout_seconds
        self.stall_seconds = settings.body_stall_seconds
        # The largest body any route takes (a create with its image as base64).
        self.max_bytes = body_limit(settings.max_image_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _announces_body(scope):
            # No body to wait for (every status poll): nothing to bound, no wrapping cost.
            await self.app(scope, receive, send)
            return
        deadline = time.monotonic() + self.total_seconds
        received = 0
        body_done = False
        answering = False

        async def limited_receive() -> Message:
            nonlocal received, body_done
            if body_done or answering:
                # Past the body (a streamed answer waiting for a disconnect), or after the
                # answer has started and will close the connection: nothing to bound.
                return await receive()
            left = deadline - time.monotonic()
            if left <= 0:
                raise _too_slow(f"did not arrive in full within {self.total_seconds:g} s")
            try:
                async with asyncio.timeout(min(self.stall_seconds, left)):
                    message = await receive()
            except TimeoutError:
                if left <= self.stall_seconds:
                    raise _too_slow(
                        f"did not arrive in full within {self.total_seconds:g} s"
                    ) from None
                raise _too_slow(f"sent nothing for {self.stall_seconds:g} s") from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise PayloadTooLargeError(
                        f"The request body is larger than {self.max_bytes // (1024 * 1024)} MB."
                    )
                body_done = not message.get("more_body", False)
            else:
                body_done = True  # the client went away
            return message

        async def closing_send(message: Message) -> None:
            nonlocal answering
            if message["type"] == "http.response.start":
                answering = True
                if not body_done:
                    message["headers"] = [*message.get("headers", []), _CLOSE]
            await send(message)

        await self.app(scope, limited_receive, closing_send)


def _announces_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return value.strip() not in (b"0", b"")
        if name == b"transfer-encoding":
            return True
    return False


def _too_slow(why: str) -> RequestTimeoutError:
    return RequestTimeoutError(f"The request body {why}; the request was cut off.")
