"""Removes what finished tasks leave behind: result files once their keep-until time has
passed (content then answers 410), and whole task rows, with every file still under them,
once they finished longer ago than the row retention (VIDUGATE_TASK_ROW_RETENTION_SECONDS).
Each sweep does a bounded amount of work; a full batch brings the next sweep forward."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from vidugate.errors import DatabaseUnavailableError
from vidugate.files.base import FileStore
from vidugate.services.cached_tasks import CachedTasks
from vidugate.services.lifecycle import input_prefix, result_prefix
from vidugate.store.nonces import NonceRepository

log = logging.getLogger("vidugate.sweeper")

BATCH = 500  # tasks per kind of clean-up per sweep
CATCH_UP_SECONDS = 1.0  # the wait before the next sweep when a batch was full


async def sweep_expired(tasks: CachedTasks, files: FileStore, *, now: float) -> int:
    expired = await tasks.repo.expired(now, limit=BATCH)
    for task in expired:
        await files.delete_prefix(result_prefix(task.id))
        await tasks.update(
            task.id,
            values={
                "video_key": None,
                "thumbnail_key": None,
                "watermarked_key": None,
                "spritesheet_key": None,
            },
        )
    if expired:
        log.info("sweeper.expired count=%d", len(expired))
    return len(expired)


async def purge_finished(
    tasks: CachedTasks, files: FileStore, *, now: float, retention: float, limit: int = BATCH
) -> int:
    """Delete up to `limit` rows of tasks finished more than `retention` seconds ago, their
    files first: a crash in between leaves a row to purge again, never files no row names."""
    before = now - retention
    ids = await tasks.repo.purgeable(before, limit)
    for task_id in ids:
        await files.delete_prefix(input_prefix(task_id))
        await files.delete_prefix(result_prefix(task_id))
    purged = await tasks.repo.purge(ids, before)
    for task_id in ids:
        tasks.forget(task_id)
    if purged:
        log.info("sweeper.purged count=%d", purged)
    return purged


class Sweeper:
    def __init__(
        self,
        tasks: CachedTasks,
        files: FileStore,
        nonces: NonceRepository,
        *,
        row_retention: float,
        interval: float = 60.0,
    ) -> None:
        self.tasks = tasks
        self.files = files
        self.nonces = nonces
        self.row_retention = row_retention
        self.interval = interval
        self._main: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._main = asyncio.create_task(self._loop(), name="vidugate sweeper")

    async def stop(self) -> None:
        if self._main is not None:
            self._main.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._main

    async def sweep(self, now: float) -> bool:
        """One sweep; True when a batch was full (more is waiting)."""
        expired = await sweep_expired(self.tasks, self.files, now=now)
        purged = await purge_finished(self.tasks, self.files, now=now, retention=self.row_retention)
        await self.nonces.purge(now)
        return expired >= BATCH or purged >= BATCH

    async def _loop(self) -> None:
        while True:
            more = False
            try:
                more = await self.sweep(time.time())
            except DatabaseUnavailableError:
                log.warning("sweeper.database_unavailable (next sweep as usual)")
            except Exception:
                log.exception("sweeper.error")
            await asyncio.sleep(CATCH_UP_SECONDS if more else self.interval)
