"""Removes result files once their keep-until time has passed (content then answers 410)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from vidugate.errors import DatabaseUnavailableError
from vidugate.services.cached_tasks import CachedTasks
from vidugate.services.lifecycle import result_prefix
from vidugate.storage.base import Storage
from vidugate.store.nonces import NonceRepository

log = logging.getLogger("vidugate.sweeper")


async def sweep_expired(tasks: CachedTasks, storage: Storage, *, now: float) -> int:
    expired = await tasks.repo.expired(now, limit=500)
    for task in expired:
        await storage.delete_prefix(result_prefix(task.id))
        await tasks.update(
            task.id, values={"video_key": None, "thumbnail_key": None, "watermarked_key": None}
        )
    if expired:
        log.info("sweeper.expired count=%d", len(expired))
    return len(expired)


class Sweeper:
    def __init__(
        self,
        tasks: CachedTasks,
        storage: Storage,
        nonces: NonceRepository,
        *,
        interval: float = 60.0,
    ) -> None:
        self.tasks = tasks
        self.storage = storage
        self.nonces = nonces
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
            try:
                await sweep_expired(self.tasks, self.storage, now=time.time())
                await self.nonces.purge(time.time())
            except DatabaseUnavailableError:
                log.warning("sweeper.database_unavailable (next sweep as usual)")
            except Exception:
                log.exception("sweeper.error")
            await asyncio.sleep(self.interval)
