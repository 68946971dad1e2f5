"""The sweeper's loop: a sweep of what finished tasks leave behind (services/retention.py)
every `interval` seconds of the injected clock, sooner while a sweep finds a full batch."""

from __future__ import annotations

import asyncio
import contextlib

from vidugate.clock import Clock
from vidugate.errors import DatabaseUnavailableError
from vidugate.logs import get_logger
from vidugate.services.retention import Retention

log = get_logger("vidugate.sweeper")

CATCH_UP_SECONDS = 1.0  # the wait before the next sweep when a batch was full


class Sweeper:
    def __init__(self, retention: Retention, *, clock: Clock, interval: float = 60.0) -> None:
        self.retention = retention
        self.clock = clock
        self.interval = interval
        self._main: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._main = asyncio.create_task(self._loop(), name="vidugate sweeper")

    async def stop(self) -> None:
        if self._main is not None:
            self._main.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._main

    async def _loop(self) -> None:
        while True:
            more = False
            try:
                more = await self.retention.sweep(self.clock.now())
            except DatabaseUnavailableError:
                log.warning("sweeper.database_unavailable", next_sweep="as usual")
            except Exception:
                log.exception("sweeper.error")
            await self.clock.sleep(CATCH_UP_SECONDS if more else self.interval)
