"""A real webhook receiver on loopback (aiohttp's server, in the test's event loop): it
records every delivery (headers and body bytes as they came) and answers with the status
the test sets, so a test can take it "down" (5xx) and bring it back."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    base_url: str = ""
    status: int = 200
    held: int = 0  # deliveries waiting at the gate now
    got: list[Delivery] = field(default_factory=list)  # every try, answered or not
    # Cleared: every delivery is held unanswered until it is set (a receiver that hangs).
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    _new: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.gate.set()

    def accepted(self) -> list[Delivery]:
        """The tries it answered 2xx, in the order they came."""
        return [d for d in self.got if d.headers.get("x-answered", "").startswith("2")]

    async def wait_for(self, count: int, within: float = 60) -> list[Delivery]:
        """Until `count` tries have been answered 2xx."""
        async with asyncio.timeout(within):
            while len(self.accepted()) < count:
                self._new.clear()
                await self._new.wait()
        return self.accepted()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.held += 1
        await self.gate.wait()
        self.held -= 1
        headers = {k.lower(): v for k, v in request.headers.items()}
        headers["x-answered"] = str(self.status)
        self.got.append(Delivery(request.path, headers, body))
        self._new.set()
        return web.Response(status=self.status, text="ok")


@contextlib.asynccontextmanager
async def receiving() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/{tail:.*}", receiver._handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    receiver.base_url = f"http://127.0.0.1:{port}"
    try:
        yield receiver
    finally:
        await runner.cleanup()
